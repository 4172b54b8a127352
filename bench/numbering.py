"""The numbering plan at full size: lookup latency in process, import and load times, memory.

    .venv/bin/python bench/numbering.py                       # 10⁵ ranges, 2·10⁶ ported, SQLite
    .venv/bin/python bench/numbering.py --ported 20000000     # the issue's full size
    .venv/bin/python bench/numbering.py --postgres            # also PostgreSQL (COPY), on a
                                                              # schema of the tests' fixture
    .venv/bin/python bench/numbering.py --send --workers 2    # one API-1 POST of 10,000
                                                              # recipients, without and with
                                                              # the plan, and the workers' memory

Generated data: `--ranges` ranges of equal size over the DEF codes 900-999, eight operators,
and `--ported` distinct numbers drawn from them, each moved to another operator. Reports:
the snapshot's build time, its arrays' bytes and the process's RSS growth; p50/p99 of
`Numbering.owner` over 200,000 lookups (half of them ported numbers); per database, a full
ported import, an increment of 10⁵ rows, and a process's load of the snapshot from it.

`--send` runs `pilotgate serve --workers N` (pipeline off, SQLite) twice on one database:
before the plan is imported and after, and times one POST with 10,000 recipients (half of
them ported numbers) against each, after a one-recipient warm-up; it also reports each
worker's RSS and PSS (`/proc/PID/smaps_rollup`: PSS divides shared pages among the processes
sharing them, so the sum of PSS is what the processes really cost together; with several
workers the total includes the supervisor, which loads the plan before forking them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from common import pilotgate, start_server, stop_server

from pilotgate.domain.numbering import Numbering, PlanRange
from pilotgate.gateway.numbering import load
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

BRANDS = [("MTS", "01"), ("MegaFon", "02"), ("Beeline", "99"), ("Tele2", "20"),
          ("Yota", "11"), ("Motiv", "35"), ("Rostelecom", "39"), ("Other", "")]  # fmt: skip
NOW = datetime(2025, 6, 2, tzinfo=UTC)
SPAN = 100 * 10**7  # the numbers of DEF codes 900-999


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def plan(count: int) -> list[PlanRange]:
    size = SPAN // count
    return [
        PlanRange(low=79 * 10**9 + i * size, high=79 * 10**9 + (i + 1) * size - 1,
                  operator=BRANDS[i % 8][0], mnc=BRANDS[i % 8][1], region=f"region {i % 85}")
        for i in range(count)
    ]  # fmt: skip


def ported(count: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return sorted(rng.sample(range(79 * 10**9, 79 * 10**9 + SPAN), count))


def ports(numbers: list[int]) -> Iterator[tuple[int, str, str]]:
    for n in numbers:
        brand, mnc = BRANDS[(n * 7) % 7]  # not always the home operator: a real port
        yield n, brand, mnc


def percentile(values: list[int], share: float) -> float:
    return sorted(values)[int(len(values) * share)] / 1000


def in_process(ranges: list[PlanRange], numbers: list[int]) -> None:
    before = rss_mb()
    started = time.perf_counter()
    snapshot = Numbering.build(1, ranges, ports(numbers))
    built = time.perf_counter() - started
    grown = rss_mb() - before
    print(f"snapshot: {len(ranges):,} ranges, {len(numbers):,} ported: built in {built:.1f} s, "
          f"arrays {snapshot.nbytes() / 2**20:.0f} MB, RSS +{grown:.0f} MB")  # fmt: skip
    rng = random.Random(2)
    phones = [str(rng.choice(numbers)) if i % 2 else str(79 * 10**9 + rng.randrange(SPAN))
              for i in range(200_000)]  # fmt: skip
    times = []
    clock = time.perf_counter_ns
    for phone in phones:
        t0 = clock()
        snapshot.owner(phone)
        times.append(clock() - t0)
    print(f"lookup: p50 {percentile(times, 0.5):.1f} µs, p99 {percentile(times, 0.99):.1f} µs "
          f"(200,000 lookups, half ported)")  # fmt: skip


async def on_database(name: str, store: Store, ranges: list[PlanRange], numbers: list[int]) -> None:
    await store.upgrade()
    await store.replace_plan(ranges, NOW)
    started = time.perf_counter()
    await store.replace_ported(ports(numbers), NOW, increment=False)
    full = time.perf_counter() - started
    extra = ported(100_000, seed=3)
    started = time.perf_counter()
    await store.replace_ported(ports(extra), NOW, increment=True)
    increment = time.perf_counter() - started
    before = rss_mb()
    started = time.perf_counter()
    snapshot = await load(store)
    loaded = time.perf_counter() - started
    print(f"{name}: full ported import {full:.1f} s ({len(numbers) / full:,.0f} rows/s), "
          f"increment of 100,000 {increment:.1f} s, snapshot load {loaded:.1f} s "
          f"({snapshot.counts()[1]:,} ported, RSS +{rss_mb() - before:.0f} MB)")  # fmt: skip
    await store.close()


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB."""
    figures = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                figures[name] = int(rest.split()[0]) / 1024
    return figures["Rss"], figures["Pss"]


def workers_of(proc_pid: int, workers: int) -> list[int]:
    """The processes serving requests: the server itself, or its forked workers."""
    if workers <= 1:
        return [proc_pid]
    with open(f"/proc/{proc_pid}/task/{proc_pid}/children") as children:
        return [int(pid) for pid in children.read().split()]


def timed_send(env: dict[str, str], key: str, phones: list[str], workers: int) -> str:
    proc, url = start_server(env, workers)
    try:
        with httpx.Client(timeout=300) as client:
            for _ in range(workers * 2):  # each worker loads its plan before answering
                one = {"send": "Warm-up", "to": phones[0], "apikey": key, "format": "json"}
                client.post(f"{url}/api.php", data=one).raise_for_status()
            data = {"send": "Bulk hello", "to": ",".join(phones), "apikey": key, "format": "json"}
            started = time.perf_counter()
            answer = client.post(f"{url}/api.php", data=data)
            elapsed = time.perf_counter() - started
            items = answer.json().get("send", [])
            accepted = sum(1 for item in items if item["status"] == "0")
            # The operators some of them got (the plan's, or the tariff's without one).
            sample = dict(data, to=",".join(phones[:200]), fields="all")
            answered = client.post(f"{url}/api.php", data=sample).json().get("send", [])
            operators = len({item.get("operator", "") for item in answered})
        memory = [memory_mb(pid) for pid in workers_of(proc.pid, workers)]
        supervisor = memory_mb(proc.pid) if workers > 1 else (0.0, 0.0)
    finally:
        stop_server(proc)
    shown = ", ".join(f"RSS {rss:.0f} MB / PSS {pss:.0f} MB" for rss, pss in memory)
    if workers > 1:
        shown += f"; supervisor RSS {supervisor[0]:.0f} MB / PSS {supervisor[1]:.0f} MB"
    return (f"one POST with {len(phones):,} recipients {elapsed * 1000:.0f} ms "
            f"({accepted:,} accepted, {operators} operators); "
            f"{len(memory)} worker(s): {shown}; "
            f"PSS total {sum(p for _, p in memory) + supervisor[1]:.0f} MB")  # fmt: skip


async def send_with_plan(ranges: list[PlanRange], numbers: list[int], workers: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-bench-"))
    env = dict(os.environ, PILOTGATE_DATABASE_URL=f"sqlite:///{workdir}/bench.db",
               PILOTGATE_LOG_LEVEL="warning", PILOTGATE_PIPELINE="0")  # fmt: skip
    try:
        key = pilotgate(env, "account", "create", "--email", "bench@example.com", "--password",
                        "bench-password", "--balance", "1000000", "--default-sender", "INFORM"
                        ).split()[-1]  # fmt: skip
        rng = random.Random(4)
        phones = [str(rng.choice(numbers)) if i % 2 else str(79 * 10**9 + rng.randrange(SPAN))
                  for i in range(10_000)]  # fmt: skip
        print("without a plan:", timed_send(env, key, phones, workers))

        store = SqliteStore(str(workdir / "bench.db"))
        await store.replace_plan(ranges, NOW)
        await store.replace_ported(ports(numbers), NOW, increment=False)
        await store.close()
        print(f"with the plan ({len(ranges):,} ranges, {len(numbers):,} ported):",
              timed_send(env, key, phones, workers))  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranges", type=int, default=100_000)
    parser.add_argument("--ported", type=int, default=2_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--send", action="store_true", help="only the 10,000-recipient send")
    parser.add_argument("--workers", type=int, default=1, help="for --send: serve --workers N")
    args = parser.parse_args()
    ranges, numbers = plan(args.ranges), ported(args.ported)
    if args.send:
        await send_with_plan(ranges, numbers, args.workers)
        return
    in_process(ranges, numbers)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(str(Path(folder) / "bench.db"))
            await on_database("sqlite", store, ranges, numbers)
    if args.postgres:
        from tests.postgres import fresh_schema

        with fresh_schema() as dsn:
            await on_database("postgres", await PostgresStore.open(dsn), ranges, numbers)


if __name__ == "__main__":
    asyncio.run(main())
