"""Crash figures on PostgreSQL (issue 12): a private cluster (never the shared server), the
real `pilotgate serve`, and a steady load of sends (4 threads, 20 recipients each), through
the emulator (its journal counts hand-overs) and through an SMPP link to the simulator run
in this process (it counts submits per phone):

1. outage: PostgreSQL itself crashed (`pg_ctl stop -m immediate`) for S seconds (default
   40) under load, then started again;
2. gateway: `kill -9` of the gateway N times (default 4) under load, restarted at once.

For each: answered messages lost (must be 0), handed over twice (must be 0), messages that
should have been delivered but ended failed (must be 0), messages left in doubt that ended
as hand-over unknown (-1, 606), and how long each of those took from the kill to its final
status.

Usage: .venv/bin/python bench/crash_pg.py [--kills 4] [--outage 40] [--unknown-after 300]
       [--only gateway|outage] [--threads 4] [--per-send 20] [--via emulator|smpp|both]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pilotgate, stop_server

from pilotgate.testing.smsc import SmscSimulator
from tests.pgcluster import Cluster, binaries

LEASE = 30.0  # the default lease_seconds


NUMBERS = itertools.count()  # distinct phone numbers across load threads


#: Recipients per send (batches make a kill land mid-hand-over more often).
PER_SEND = 20


def load(url: str, key: str, answered: list[str], stop: threading.Event) -> None:
    """Sends until told to stop; only answered ones count (phones ending in 7 fail)."""
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            phones = ",".join(f"7908{next(NUMBERS):07d}" for _ in range(PER_SEND))
            try:
                body = client.get(
                    url + "/api.php",
                    params={"send": "crash test", "to": phones, "apikey": key, "format": "json"},
                ).json()
            except (httpx.HTTPError, ValueError):
                time.sleep(0.05)  # the gateway is down or waits for the database
                continue
            if "send" in body:
                answered.extend(item["server_id"] for item in body["send"])


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[str], str]:
    """`pilotgate serve` with its log in a file (the outage makes it long)."""
    with log.open("a") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pilotgate", "serve", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("PilotGate listening on "):
            return proc, line.split()[-1]
    raise SystemExit(f"the server did not start; see {log}")


class Simulator:
    """`pilotgate smsc-sim` in this process (its own thread and loop), so the bench can count
    the submits it received per phone."""

    def __init__(self) -> None:
        self.sim = SmscSimulator(receipt_delay=0.5)
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        ready = threading.Event()

        async def main() -> None:
            async with self.sim:
                ready.set()
                await self._stop.wait()

        self._thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(main()), daemon=True
        )
        self._thread.start()
        ready.wait(10)

    def handed(self) -> Counter[str]:
        return Counter(submit.destination for submit in list(self.sim.submits))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class Run:
    def __init__(
        self,
        cluster: Cluster,
        name: str,
        unknown_after: float,
        threads: int,
        sim: Simulator | None = None,
    ) -> None:
        self.threads = threads
        self.sim = sim
        self.workdir = Path(tempfile.mkdtemp(prefix=f"crash-{name}-"))
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        self.dsn = cluster.url.rsplit("/", 1)[0] + "/" + name
        self.journal = self.workdir / "emulator.journal"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGATE_")}
        self.env.update(
            {
                "PILOTGATE_DATABASE_URL": self.dsn,
                "PILOTGATE_EMULATOR_JOURNAL": str(self.journal),
                "PILOTGATE_EMULATOR_DELAY": "0.5",
                "PILOTGATE_EMULATOR_FAIL_SUFFIXES": "7",
                "PILOTGATE_HANDOVER_UNKNOWN_AFTER": str(unknown_after),
                "PILOTGATE_LOG_LEVEL": "warning",
            }
        )
        pilotgate(self.env, "db", "upgrade")
        out = pilotgate(self.env, "account", "create", "--email", f"{name}@example.com",
                        "--password", "crash-password", "--balance", "1000000.00")  # fmt: skip
        self.key = out.split("apikey ")[1].split()[0]
        if sim is not None:
            pilotgate(self.env, "connector", "add", "smpp", "sim", "--host", "127.0.0.1",
                      "--port", str(sim.sim.port), "--system-id", "crash", "--password", "x",
                      "--window", "50")  # fmt: skip
            pilotgate(self.env, "route", "add", "*", "sms", "sim")
        self.answered: list[str] = []
        self.log = self.workdir / "server.log"
        self.stop = threading.Event()
        self.loaders: list[threading.Thread] = []
        self.server, self.url = start_server(self.env, self.log)

    def start_load(self) -> None:
        self.stop = threading.Event()
        self.loaders = [
            threading.Thread(
                target=load, args=(self.url, self.key, self.answered, self.stop), daemon=True
            )
            for _ in range(self.threads)
        ]
        for thread in self.loaders:
            thread.start()

    def stop_load(self) -> None:
        self.stop.set()
        for thread in self.loaders:
            thread.join(10)

    def restart(self) -> None:
        # A restarted server may listen on another port: new load threads take over.
        self.stop_load()
        self.server, self.url = start_server(self.env, self.log)
        self.start_load()

    def wait_until(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answered) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(self.answered)} sends answered, wanted {count}")
            time.sleep(0.1)

    def finish(self, timeout: float) -> dict[int, tuple[int, int, str, datetime, datetime | None]]:
        """Stop the load, wait until every answered message is final; id → (status, error,
        phone, modified, lease_until)."""
        self.stop_load()
        ids = [int(i) for i in self.answered]
        deadline = time.monotonic() + timeout
        while True:
            with psycopg.connect(self.dsn) as conn:
                rows = conn.execute(
                    "SELECT id, status, error, phone, modified, lease_until FROM messages "
                    "WHERE id = ANY(%s)",
                    (ids,),
                ).fetchall()
            waiting = sum(1 for r in rows if r[1] in (0, 1, 3))
            if (len(rows) == len(set(ids)) and not waiting) or time.monotonic() > deadline:
                stop_server(self.server)
                return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}
            time.sleep(1)

    def report(self, title: str, kills: list[datetime], timeout: float) -> None:
        """Print the figures; `kills` are the moments the gateway or database was killed."""
        rows = self.finish(timeout)
        answered = {int(i) for i in self.answered}
        lost = answered - set(rows)
        if self.sim is None:
            handed = Counter(line.split()[0] for line in self.journal.read_text().splitlines())
        else:
            handed = self.sim.handed()  # by phone: every message has its own
        twice = [i for i, times in handed.items() if times > 1]
        not_final = [i for i, r in rows.items() if r[0] in (0, 1, 3)]
        unknown = {i: r for i, r in rows.items() if (r[0], r[1]) == (-1, 606)}
        expired = [i for i, r in rows.items() if (r[0], r[1]) == (-1, 600)]
        # A message meant to be delivered (phone not ending in 7) that ended failed for a
        # reason other than the documented "hand-over unknown" after a gateway kill.
        fails = "" if self.sim else "7"
        wrongly_failed = [
            i
            for i, r in rows.items()
            if r[0] == -1 and not (fails and r[2].endswith(fails)) and r[1] != 606
        ]
        shutil.rmtree(self.workdir, ignore_errors=True)
        print(f"\n== {title}")
        print(f"answered {len(answered)}; lost {len(lost)}; handed over twice {len(twice)}")
        print(f"not final after the wait: {len(not_final)}; expired (600): {len(expired)}")
        print(f"delivered messages that ended failed (other than 606): {len(wrongly_failed)}")
        print(f"in doubt, ended as hand-over unknown (606): {len(unknown)}")
        if unknown:
            waits = []
            for _, (_, _, _, modified, _) in unknown.items():
                before = [k for k in kills if k <= modified]
                waits.append((modified - before[-1]).total_seconds() if before else float("nan"))
            low, mid, high = min(waits), statistics.median(waits), max(waits)
            print(f"  kill → final status: min {low:.0f} s, median {mid:.0f} s, max {high:.0f} s")


def gateway_kills(
    cluster: Cluster, kills: int, unknown_after: float, threads: int, via: str
) -> None:
    sim = Simulator() if via == "smpp" else None
    run = Run(cluster, f"gatewaykills{via}", unknown_after, threads, sim)
    run.start_load()
    moments: list[datetime] = []
    for _ in range(kills):
        run.wait_until(len(run.answered) + 2000)
        run.server.send_signal(signal.SIGKILL)
        run.server.wait()
        moments.append(datetime.now(UTC))
        run.restart()
    run.wait_until(len(run.answered) + 2000)
    run.report(
        f"gateway kill -9 x{kills} under load, via {via} "
        f"(handover_unknown_after {unknown_after:g} s)",
        moments,
        timeout=LEASE + unknown_after * 2 + 120,
    )
    if sim is not None:
        sim.close()


def database_outage(
    cluster: Cluster, seconds: float, unknown_after: float, threads: int, via: str
) -> None:
    sim = Simulator() if via == "smpp" else None
    run = Run(cluster, f"outage{via}", unknown_after, threads, sim)
    run.start_load()
    run.wait_until(2000)
    cluster.crash()
    crashed = datetime.now(UTC)
    time.sleep(seconds)  # the outage
    cluster.start()
    print(f"PostgreSQL down {(datetime.now(UTC) - crashed).total_seconds():.1f} s")
    run.wait_until(len(run.answered) + 2000, timeout=300)
    run.report(f"PostgreSQL crashed for {seconds:g} s under load, via {via}", [crashed], 300)
    if sim is not None:
        sim.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--outage", type=float, default=40.0)
    parser.add_argument("--unknown-after", type=float, default=300.0)
    parser.add_argument("--only", choices=("gateway", "outage"))
    parser.add_argument("--threads", type=int, default=4, help="load threads")
    parser.add_argument(
        "--via",
        choices=("emulator", "smpp", "both"),
        default="both",
        help="the connector messages go to",
    )
    parser.add_argument("--per-send", type=int, default=20, help="recipients per send")
    args = parser.parse_args()
    global PER_SEND
    PER_SEND = args.per_send
    vias = ("emulator", "smpp") if args.via == "both" else (args.via,)
    bindir = binaries()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql")
    cluster = Cluster(bindir)
    try:
        cluster.init()
        cluster.start()
        if args.only in (None, "outage"):
            for via in vias:
                database_outage(cluster, args.outage, args.unknown_after, args.threads, via)
        if args.only in (None, "gateway"):
            for via in vias:
                gateway_kills(cluster, args.kills, args.unknown_after, args.threads, via)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
