"""The numbering plan at full size: lookup latency in process, import and load times, memory.

    .venv/bin/python bench/numbering.py                       # 10⁵ ranges, 2·10⁶ ported, SQLite
    .venv/bin/python bench/numbering.py --ported 20000000     # the issue's full size
    .venv/bin/python bench/numbering.py --postgres            # also PostgreSQL (COPY), on a
                                                              # schema of the tests' fixture

Generated data: `--ranges` ranges of equal size over the DEF codes 900-999, eight operators,
and `--ported` distinct numbers drawn from them, each moved to another operator. Reports:
the snapshot's build time, its arrays' bytes and the process's RSS growth; p50/p99 of
`Numbering.owner` over 200,000 lookups (half of them ported numbers); per database, a full
ported import, an increment of 10⁵ rows, and a process's load of the snapshot from it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranges", type=int, default=100_000)
    parser.add_argument("--ported", type=int, default=2_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    ranges, numbers = plan(args.ranges), ported(args.ported)
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
