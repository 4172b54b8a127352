#!/usr/bin/env bash
# What the SMS-pumping rules cost the send path (issue 16: within 10%): bench/api1_send.py
# with the defaults (rules on) and with --no-pumping, alternated on the same machine, in two
# checkouts (e.g. main and a branch), ROUNDS times, on SQLite and on PostgreSQL. Each line
# carries the load average at its start: on a shared machine, compare lines of like load.
#
#   bench/pumping_cost.sh ../main . 2 > /tmp/pumping_cost.log      # old checkout, new, rounds
#   bench/pumping_cost.sh . . 2                                     # one checkout alone
#
# Both checkouts run this checkout's bench/api1_send.py (it reports the server's CPU time per
# send too, steadier than req/s on a shared machine), each with its own .venv and code.
#
# Output: "<database> <old|new> <on|off> load=<1-min> <req/s …> <CPU …> <one POST …>".
set -euo pipefail
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=${3:-2}
BENCH=$(cd "$(dirname "$0")" && pwd)/api1_send.py
PG=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
ARGS=(--connections "${CONNECTIONS:-50}" --duration "${DURATION:-10}")
# EXTRA="--no-pipeline": the API alone (the delivery worker's backlog from the single sends
# otherwise shares the CPU with the 10,000-recipient POST that follows them); add
# "--posts 8" for that POST's median time and mean CPU over 8 (one POST is noise).
read -r -a MORE <<<"${EXTRA:-}"
ARGS+=("${MORE[@]}")

run() {  # checkout database on|off
  local dir=$1 db=$2 rules=$3
  local extra=()
  [ "$db" = postgres ] && extra+=(--database "$PG")
  [ "$rules" = off ] && extra+=(--no-pumping)
  local load out
  load=$(cut -d' ' -f1 /proc/loadavg)
  out=$(cd "$dir" && .venv/bin/python "$BENCH" "${ARGS[@]}" "${extra[@]}" 2>/dev/null)
  echo "$db $([ "$dir" = "$OLD" ] && echo old || echo new) $rules load=$load" \
    "$(grep -E "requests/s|one POST|server CPU" <<<"$out" | tr -s ' ' | tr '\n' ' ')"
}

for round in $(seq "$ROUNDS"); do
  for db in sqlite postgres; do
    for dir in "$OLD" "$NEW"; do
      [ "$dir" = "$NEW" ] && [ "$OLD" = "$NEW" ] && continue
      run "$dir" "$db" on
      run "$dir" "$db" off
    done
  done
done
