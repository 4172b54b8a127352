"""What a second process costs: API-1 single sends under wrk against one process, `serve
--workers 2`, and `pilotgate api` + `pilotgate worker`, on a private PostgreSQL cluster.

    .venv/bin/python bench/processes.py [--rounds 3] [--duration 10] [--connections 50]
    .venv/bin/python bench/processes.py --modes 1,2 --rounds 4

The figures are per request, summed over both sides of the machine, because on a shared
machine the wall clock is noise and CPU is not:

- gateway CPU: user + system of every gateway process (a supervisor and its workers, or
  the api and worker processes);
- PostgreSQL CPU: every process of the private cluster (backends, WAL writer, checkpointer,
  autovacuum, and the ones reaped);
- commits (pg_stat_database) and statements (pg_stat_statements, BEGIN and COMMIT
  included);

each over two windows: while wrk runs, and from wrk's start until every message it sent has
its final status (the pipeline caught up). Before that, 5 s of idling measure what the
processes cost doing nothing (polls). The modes run alternated, `--rounds` times each, on
one cluster; every run checks that the messages stored equal what wrk counted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from api1_send import cpu_seconds, stored_messages, wrk
from capacity import Observer, wait_for
from common import pilotgate, stop_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pgcluster import Cluster, binaries

IDLE_SECONDS = 5.0


@dataclass
class Sample:
    gateway_s: float
    postgres_s: float
    commits: int
    statements: int

    def __sub__(self, other: Sample) -> Sample:
        return Sample(
            self.gateway_s - other.gateway_s, self.postgres_s - other.postgres_s,
            self.commits - other.commits, self.statements - other.statements,
        )  # fmt: skip


def launch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotgate", *args], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(("PilotGate listening on ", "PilotGate worker running")):
            proc.args = line.split()[-1]  # the URL (or "running"), kept with the process
            return proc
    raise SystemExit(f"pilotgate {args[0]} did not start")


def start(mode: str, env: dict[str, str]) -> tuple[list[subprocess.Popen[str]], str]:
    if mode.endswith("-api"):  # the API alone: no pipeline anywhere
        env = dict(env, PILOTGATE_PIPELINE="0")
        mode = mode.removesuffix("-api")
    if mode == "split":
        api = launch(env, "api", "--port", "0")
        return [api, launch(env, "worker")], str(api.args)
    proc = launch(env, "serve", "--port", "0", "--workers", mode)
    return [proc], str(proc.args)


def sample(observer: Observer, procs: list[subprocess.Popen[str]]) -> Sample:
    reading = observer.read()
    return Sample(
        sum(cpu_seconds(p.pid) for p in procs), reading.cpu_s, reading.commits,
        reading.statements,
    )  # fmt: skip


def one_run(mode: str, env: dict[str, str], key: str, args: argparse.Namespace,
            observer: Observer) -> str:  # fmt: skip
    procs, url = start(mode, env)
    try:
        httpx.get(f"{url}/api.php", params={"apikey": key}).raise_for_status()
        finals_before = observer.finals()
        sent_before = stored_messages(url, key)
        time.sleep(1.0)  # start-up's own work (first rounds, caches) settles
        idle_start = sample(observer, procs)
        time.sleep(IDLE_SECONDS)  # the idle window measured: not a synchronisation
        idle = sample(observer, procs) - idle_start
        observer.reset()  # pg_stat_statements from here: --top's statements are the run's
        started = sample(observer, procs)
        figures = wrk(url, key, args.connections, args.duration)
        during = sample(observer, procs) - started
        requests = int(figures["requests"])
        stored = stored_messages(url, key) - sent_before
        if not mode.endswith("-api"):
            wait_for("final statuses", lambda: observer.finals() - finals_before >= stored)
        whole = sample(observer, procs) - started
        busiest = observer.top(args.top) if args.top else []
    finally:
        for proc in procs:
            stop_server(proc)
    for calls, _mean, query in busiest:
        print(f"    {mode:>5} {calls / max(1, requests):7.3f} per request  {query}")
    return (
        f"{mode:>5}  {float(figures['rps']):7.0f} req/s  p99 {figures['p99']:>8}  "
        f"wrk {requests} stored {stored}  | during wrk: {per_request(during, requests)}"
        f"  | to final: {per_request(whole, requests)}  | idle/s: {per_second(idle)}"
        f"  | load {os.getloadavg()[0]:.1f}"
    )


def per_request(window: Sample, requests: int) -> str:
    per = 1e6 / max(1, requests)
    return (
        f"gw {window.gateway_s * per:4.0f} pg {window.postgres_s * per:4.0f} "
        f"sum {(window.gateway_s + window.postgres_s) * per:4.0f} µs, "
        f"{window.commits / max(1, requests):.3f} commits, "
        f"{window.statements / max(1, requests):.2f} stmts"
    )


def per_second(window: Sample) -> str:
    return (
        f"gw {window.gateway_s / IDLE_SECONDS * 1000:.1f} ms "
        f"pg {window.postgres_s / IDLE_SECONDS * 1000:.1f} ms "
        f"{window.commits / IDLE_SECONDS:.1f} commits "
        f"{window.statements / IDLE_SECONDS:.0f} stmts"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--top", type=int, default=0, help="print each run's N busiest statements")
    parser.add_argument(
        "--modes", default="1,2,split", help="comma-separated: 1, 2, split; N-api: pipeline off"
    )
    args = parser.parse_args()
    bindir = binaries()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql")
    cluster = Cluster(bindir)
    cluster.init()
    cluster.start("-c shared_preload_libraries=pg_stat_statements -c max_connections=100")
    try:
        observer = Observer(cluster)
        env = dict(
            os.environ, PILOTGATE_DATABASE_URL=cluster.url, PILOTGATE_LOG_LEVEL="warning",
            PILOTGATE_PIPELINE="1",
        )  # fmt: skip
        key = pilotgate(
            env, "account", "create", "--email", "procs@example.com", "--password",
            "procs-password", "--balance", "1000000", "--default-sender", "INFORM",
        ).split()[-1]  # fmt: skip
        modes = args.modes.split(",")
        print(f"API-1 single sends, {args.connections} connections, {args.duration} s; "
              f"CPU in µs per request (gateway, PostgreSQL)", flush=True)  # fmt: skip
        for round_ in range(args.rounds):
            # Each round starts with the next mode, so no mode always runs first.
            order = modes[round_ % len(modes) :] + modes[: round_ % len(modes)]
            for mode in order:
                print(one_run(mode, env, key, args, observer), flush=True)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
