"""What an SMPP rate limit costs per submit_sm, measured two ways (docs/decisions.md "SMPP
limits per account"): the in-process token bucket PilotGate uses (`AccountLimits.admit`),
and a bucket kept in the database like the connectors' (`take_tokens`, one locked
read-modify-write transaction per submit), on SQLite and, with PILOTGATE_BENCH_PG set to a
database URL, PostgreSQL. Also the cost of counting a bind (`hold_smpp_bind`).

Usage: .venv/bin/python bench/smpp_limits.py [COUNT]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pilotgate import bootstrap
from pilotgate.api.smpp.limits import AccountLimits, LimitSettings
from pilotgate.config import Settings
from pilotgate.gateway import Gateway
from pilotgate.storage.base import NewAccount
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def rate(count: int, started: float) -> str:
    return f"{count / (time.perf_counter() - started):,.0f}/s"


async def measure(name: str, store: Store) -> None:
    await store.upgrade()
    await bootstrap.ensure_defaults(store, Settings())
    now = datetime.now(UTC)
    account = await store.create_account(
        NewAccount(email=f"b{time.time_ns()}@example.org", password_hash="!", key_digest=name,
                   tariff_id=1),
        now,
    )  # fmt: skip
    await store.set_smpp_credentials(account.id, f"b{time.time_ns() % 10**9}", "!", now)
    await store.set_smpp_limits(account.id, None, 10**6)
    gateway = Gateway(store, lambda: datetime.now(UTC))
    limits = AccountLimits(gateway, LimitSettings(max_binds=COUNT + 1))
    started = time.perf_counter()
    binds = [await limits.hold(account.id) for _ in range(COUNT // 10)]
    print(f"{name}: hold_smpp_bind {rate(len(binds), started)}")
    started = time.perf_counter()
    for _ in range(COUNT * 50):
        limits.admit(account.id)
    print(f"{name}: in-process bucket {rate(COUNT * 50, started)}")
    await store.save_connector(f"bench{time.time_ns()}", "emulator", "{}", 10**6)
    connector = [c.name for c in await store.connectors() if c.name.startswith("bench")][-1]
    started = time.perf_counter()
    for _ in range(COUNT):
        await store.take_tokens(connector, 1, datetime.now(UTC))
    print(f"{name}: database bucket (take_tokens) {rate(COUNT, started)}")
    await store.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        await measure("SQLite", SqliteStore(str(Path(folder) / "b.db")))
    if url := os.environ.get("PILOTGATE_BENCH_PG"):
        from pilotgate.storage.postgres import PostgresStore

        await measure("PostgreSQL", await PostgresStore.open(url))


if __name__ == "__main__":
    asyncio.run(main())
