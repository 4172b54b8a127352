"""What one message costs PostgreSQL, per step of its life (issue: the capacity model).

    .venv/bin/python bench/capacity.py [--count 2000] [--concurrency 16]

Runs a private PostgreSQL cluster (tests/pgcluster.py) with pg_stat_statements loaded, a
gateway on it, and measures, per 1,000 messages, for each step on its own:

- API-1 send: single sends (`pilotgate serve` with the pipeline off);
- API-2 item: packets of 100 different texts;
- hand-over + outcome: `pilotgate worker` handing everything to the emulator connector and
  storing each message's final status (the emulator's stand-in for a delivery receipt);
- callback: the same with a callback URL on every message, minus the step above.

Each figure: statements (= round trips: every statement, BEGIN and COMMIT included, is one),
commits, WAL records and bytes (pg_stat_wal), statement execution time inside PostgreSQL
(pg_stat_statements) and the CPU time of all PostgreSQL processes (/proc: the postmaster's
reaped children plus the live backends). Load from this script and the gateway is not
counted. docs/scaling.md turns the figures into a capacity projection.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
from common import pilotgate, start_server, stop_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pgcluster import Cluster, binaries

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Reading:
    statements: int
    exec_ms: float
    commits: int
    wal_records: int
    wal_bytes: int
    cpu_s: float

    def __sub__(self, other: Reading) -> Reading:
        return Reading(
            *(a - b for a, b in zip(vars(self).values(), vars(other).values(), strict=True))
        )


class Observer:
    """Reads the counters on a connection of its own role, whose statements are left out."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        admin = psycopg.connect(cluster.url, autocommit=True)
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        admin.execute("CREATE ROLE observer LOGIN SUPERUSER")
        admin.close()
        self.conn = psycopg.connect(cluster.url.replace("postgres@", "observer@"), autocommit=True)
        self.own_commits = 0

    def query(self, sql: str) -> tuple:  # type: ignore[type-arg]
        self.own_commits += 1
        row = self.conn.execute(sql).fetchone()
        assert row is not None
        return row

    def cpu(self) -> float:
        postmaster = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if pid == postmaster:  # itself and every child it has reaped
                total += sum(int(f) for f in fields[11:15])
            elif ppid == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / TICK

    def read(self) -> Reading:
        statements, exec_ms = self.query(
            "SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0) "
            "FROM pg_stat_statements WHERE userid <> 'observer'::regrole"
        )
        (commits,) = self.query(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"
        )
        wal_records, wal_bytes = self.query("SELECT wal_records, wal_bytes FROM pg_stat_wal")
        # Counters are sent to the statistics system at the end of a transaction; our own
        # queries above are counted in xact_commit: take them out.
        return Reading(
            int(statements), float(exec_ms), int(commits) - self.own_commits,
            int(wal_records), int(wal_bytes), self.cpu(),
        )  # fmt: skip

    def top(self, limit: int = 6) -> list[tuple[int, float, str]]:
        rows = self.conn.execute(
            "SELECT calls, mean_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
            "FROM pg_stat_statements WHERE userid <> 'observer'::regrole "
            "ORDER BY calls DESC LIMIT %s",
            (limit,),
        ).fetchall()
        return [(int(c), float(m), str(q)) for c, m, q in rows]

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def finals(self) -> int:
        (count,) = self.query("SELECT count(*) FROM messages WHERE status IN (2, -1, -2)")
        return int(count)

    def callbacks_done(self) -> int:
        (count,) = self.query("SELECT count(*) FROM callbacks WHERE done_at IS NOT NULL")
        return int(count)


def receiver() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a gateway that hung up before reading "OK" is its business

    server = Quiet(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/cb"


def send_singles(url: str, key: str, count: int, concurrency: int, callback: str = "") -> None:
    extra = {"callback": callback} if callback else {}

    def one(n: int) -> None:
        answer = client.post(
            f"{url}/api.php",
            data={"send": f"code {n:06d}", "to": f"7916{n % 10_000_000:07d}", "apikey": key,
                  "format": "json", **extra},
        ).json()  # fmt: skip
        assert "send" in answer, answer

    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(1, count + 1)))


def send_packets(url: str, key: str, count: int) -> None:
    with httpx.Client(timeout=60) as client:
        for start in range(0, count, 100):
            items = [
                {"id": n, "from": "INFORM", "to": f"7903{n:07d}", "text": f"code {n:06d}"}
                for n in range(start + 1, start + 101)
            ]
            answer = client.post(f"{url}/api2.php", json={"apikey": key, "send": items}).json()
            assert "send" in answer, answer


def wait_for(what: str, done: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)  # a poll interval


def report(title: str, delta: Reading, count: int) -> None:
    per = 1000 / count
    print(
        f"{title:<22} {delta.statements * per:>9,.0f} {delta.commits * per:>8,.0f} "
        f"{delta.wal_records * per:>9,.0f} {delta.wal_bytes * per / 1024:>9,.0f} "
        f"{delta.exec_ms * per:>9,.0f} {delta.cpu_s * per * 1000:>9,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", action="store_true", help="print each step's busiest statements")
    parser.add_argument(
        "--pumping", action="store_true", help="the SMS-pumping rules on (holds most of it)"
    )
    args = parser.parse_args()
    pumping = args.pumping
    bindir = binaries()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql")
    cluster = Cluster(bindir)
    cluster.init()
    cluster.start("-c shared_preload_libraries=pg_stat_statements -c track_io_timing=on")
    cb_server, cb_url = receiver()
    try:
        observer = Observer(cluster)
        base = dict(
            os.environ, PILOTGATE_DATABASE_URL=cluster.url, PILOTGATE_LOG_LEVEL="warning",
            PILOTGATE_EMULATOR_DELAY="0.05", PILOTGATE_EMULATOR_FAIL_SUFFIXES="",
            PILOTGATE_CALLBACK_ALLOW_NETWORKS="127.0.0.0/8",
            # The load is sequential numbers, which the SMS-pumping rules would hold: their
            # own cost is measured with them on (API-1 send, --pumping).
            PILOTGATE_PUMPING="1" if pumping else "0",
        )  # fmt: skip
        key = pilotgate(
            base, "account", "create", "--email", "capacity@example.com", "--password",
            "capacity-password", "--balance", "10000000", "--default-sender", "INFORM",
        ).split()[-1]  # fmt: skip
        n = args.count
        print(f"PostgreSQL costs per 1,000 messages ({n} measured per step, {bindir})")
        print(f"{'step':<22} {'stmts':>9} {'commits':>8} {'WAL rec':>9} {'WAL KiB':>9} "
              f"{'exec ms':>9} {'CPU ms':>9}")  # fmt: skip
        api, url = start_server(dict(base, PILOTGATE_PIPELINE="0"), 1)
        try:
            steps: list[tuple[str, Callable[[], None]]] = [
                ("API-1 send", lambda: send_singles(url, key, n, args.concurrency)),
                ("API-2 item", lambda: send_packets(url, key, n)),
            ]
            for title, run in steps:
                observer.reset()
                before = observer.read()
                run()
                report(title, observer.read() - before, n)
                if args.top:
                    for calls, mean, query in observer.top():
                        print(f"    {calls:>7} × {mean:6.3f} ms  {query}")
        finally:
            stop_server(api)

        def pipeline(title: str, expected: int, callbacks: int = 0) -> Reading:
            observer.reset()
            before = observer.read()
            worker = subprocess.Popen(
                [sys.executable, "-m", "pilotgate", "worker"], env=base,
                stdout=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            try:
                wait_for(title, lambda: observer.finals() >= expected)
                wait_for("callbacks", lambda: observer.callbacks_done() >= callbacks)
                delta = observer.read() - before
            finally:
                stop_server(worker)
            if args.top:
                for calls, mean, query in observer.top():
                    print(f"    {calls:>7} × {mean:6.3f} ms  {query}")
            return delta

        handed = pipeline("hand-over + outcome", 2 * n)
        report("hand-over + outcome", handed, 2 * n)
        api, url = start_server(dict(base, PILOTGATE_PIPELINE="0"), 1)
        try:
            send_singles(url, key, n, args.concurrency, callback=cb_url)
        finally:
            stop_server(api)
        with_callbacks = pipeline("with callbacks", 3 * n, callbacks=n)
        per_message = Reading(*(v * n / (2 * n) for v in vars(handed).values()))
        report("callback", with_callbacks - per_message, n)
    finally:
        cb_server.shutdown()
        cluster.destroy()


if __name__ == "__main__":
    main()
