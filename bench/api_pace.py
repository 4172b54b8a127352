"""What an API request pays for its account's requests per second (gateway/rates.py), in
process, without HTTP: microseconds per `pace()` with no limit and with a limit it never
reaches, and how many times the database was asked for tokens.

    .venv/bin/python bench/api_pace.py                 # SQLite in a temporary folder
    .venv/bin/python bench/api_pace.py --database postgresql://postgres@127.0.0.1/test

The machine's load moves whole-server figures (bench/api1_send.py) by more than this
costs; this isolates it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import throwaway_schema

from pilotgate.domain.rates import Rates
from pilotgate.gateway import Gateway, GatewayPolicy
from pilotgate.storage.base import NewAccount
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore


class CountingStore:
    """Counts the store's token takes; everything else goes straight through."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.takes = 0

    async def take_api_tokens(
        self, account_id: int, want: int, rps: int, now: datetime
    ) -> tuple[int, int]:
        self.takes += 1
        return await self.store.take_api_tokens(account_id, want, rps, now)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


async def measure(store: Store, run: int, rps: int, seconds: float) -> tuple[float, int, int]:
    """(µs per request, requests, database takes) over `seconds` of back-to-back requests."""
    account = await store.create_account(
        NewAccount(
            email=f"pace{run}@example.com", password_hash="h", key_digest=f"k{run}", tariff_id=1
        ),
        datetime.now(UTC),
    )
    await store.set_rates(account.id, Rates(api_rps=rps))
    counting = CountingStore(store)
    gateway = Gateway(counting, lambda: datetime.now(UTC), GatewayPolicy())  # type: ignore[arg-type]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1000):
            await gateway.pace(account)
        count += 1000
    elapsed = time.perf_counter() - started
    return elapsed / count * 1e6, count, counting.takes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    database, drop_schema = throwaway_schema(args.database)
    store: Store
    if database:
        store = await PostgresStore.open(database)
    else:
        store = SqliteStore(str(Path(tempfile.mkdtemp(prefix="pilotgate-pace-")) / "pace.db"))
    try:
        await store.upgrade()
        await store.replace_tariff(1, "default", [])
        # 0: no limit (the default); a limit far above what one process reaches.
        for run, rps in enumerate((0, 1_000_000, 0, 1_000_000)):
            micro, count, takes = await measure(store, run, rps, args.seconds)
            print(f"api_rps={rps}: {micro:.2f} µs per request, {count} requests, {takes} takes")
    finally:
        await store.close()
        drop_schema()


if __name__ == "__main__":
    asyncio.run(main())
