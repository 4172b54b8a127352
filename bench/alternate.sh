#!/usr/bin/env bash
# Old commit against new, alternated on the same machine: each benchmark runs on the old
# checkout, then the new, ROUNDS times, on SQLite and on PostgreSQL, so that drift in the
# machine's load shows up in both columns instead of in one.
#
#   git worktree add --detach ../bench-old <old-commit> && (cd ../bench-old && scripts/install --dev)
#   bench/alternate.sh ../bench-old . 2 > /tmp/alternate.log
#
# Each checkout runs its own bench/ scripts with its own .venv. Output: one line per run,
# "<bench> <database> <checkout> <figures…>", read by eye or with grep.
set -euo pipefail
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=${3:-2}
PG=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}

run() {  # checkout bench database args...
  local dir=$1 bench=$2 db=$3; shift 3
  local dbarg=()
  [ "$db" = postgres ] && dbarg=(--database "$PG")
  local out
  out=$(cd "$dir" && .venv/bin/python "bench/$bench.py" "${dbarg[@]}" "$@" 2>/dev/null)
  local figures
  case $bench in
    api1_send) figures=$(grep -E "requests/s|one POST" <<<"$out" | tr -s ' ' | tr '\n' ' ');;
    api2_packet) figures=$(grep -vE "^API-2|^\(each|balance" <<<"$out" | tr -s ' ' | tr '\n' ' ');;
    e2e_pipeline) figures=$(grep -E "end to end|send phase|missing finals" <<<"$out" | tr -s ' ' | tr '\n' ' ');;
  esac
  echo "$bench $db $([ "$dir" = "$OLD" ] && echo old || echo new) $figures"
}

for round in $(seq "$ROUNDS"); do
  for db in sqlite postgres; do
    for dir in "$OLD" "$NEW"; do run "$dir" api1_send "$db" --duration 10; done
    for dir in "$OLD" "$NEW"; do run "$dir" api2_packet "$db" --runs 3 --duration 10; done
    for dir in "$OLD" "$NEW"; do run "$dir" e2e_pipeline "$db" --messages 10000 --batch 100; done
  done
done
