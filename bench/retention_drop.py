"""What removing a day of old history costs PostgreSQL: a partition dropped whole against the
batched deletes, on the same rows (docs/retention.md).

    .venv/bin/python bench/retention_drop.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/retention_drop.py --database … --messages 200000 --rounds 3
    .venv/bin/python bench/retention_drop.py --database … --migration --messages 1000000

Each round, for each way in turn (alternated, so the machine's load falls on both alike):
a fresh schema, `--messages` old delivered messages with one part each in one closed
partition, then either `rotate_partitions` (the partition dropped whole) or `prune` batches
of 500 until none is left. The store has one connection, so one server process does all
the work: its CPU (user + system from /proc/PID/stat, this machine's server only) is the
figure, per 1,000 messages removed.

`--migration`: what migration 0030 costs on a database holding `--messages` messages (the
server's CPU and the rows it read: the old table is attached, not rewritten, and its ids
are read once to check the partition's bound).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg

from pilotgate.storage import base
from pilotgate.storage.base import NewAccount
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.sql import core

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=40)
CUT = NOW - timedelta(days=30)
FIRST = 10_001  # the first id of the range migration 0030 makes ahead on a new database
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def fill(store: PostgresStore, messages: int) -> None:
    await store.replace_tariff(1, "default", [])
    account = await store.create_account(
        NewAccount(email="bench@example.com", password_hash="x", key_digest="k", tariff_id=1), OLD
    )
    await store._sql.run(
        "INSERT INTO messages (id, packet_id, account_id, phone, sender, text, parts, channel, "
        "price, status, created, modified) SELECT i, i, %s, '79160000000', 'INFORM', 'old', 1, "
        "'sms', 150, 2, %s, %s FROM generate_series(%s::bigint, %s::bigint) AS i",
        (account.id, OLD, OLD, FIRST, FIRST + messages - 1),
    )
    await store._sql.run(
        "INSERT INTO message_parts (connector, remote_id, server_id, part, status) "
        "SELECT 'emu', 'r' || i, i, 1, 2 FROM generate_series(%s::bigint, %s::bigint) AS i",
        (FIRST, FIRST + messages - 1),
    )
    # Ids have moved past the partition (a day later): it is closed, the next one is made.
    await store._sql.run("SELECT setval('message_ids', %s)", (FIRST + 10_000_000,))
    await store.rotate_partitions(NOW, None)
    await store._sql.run("ANALYZE messages")
    await store._sql.run("ANALYZE message_parts")


@contextlib.asynccontextmanager
async def fresh_store(dsn: str) -> AsyncIterator[PostgresStore]:
    """A store with one connection on a schema of its own, dropped at the end (each round
    and way starts from nothing); not yet upgraded."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{dsn}{'&' if '?' in dsn else '?'}options={quote(f'-csearch_path={schema}')}"
            store = await PostgresStore.open(url, min_size=1, max_size=1)
            try:
                yield store
            finally:
                await store.close()
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


async def migration(dsn: str, messages: int) -> None:
    every = base.migration_scripts
    async with fresh_store(dsn) as store:
        try:
            # Up to 0029 first, as a database a release before this one left.
            vars(core)["migration_scripts"] = lambda d: [m for m in every(d) if m[0] < "0030"]
            await store.upgrade()
            await store.replace_tariff(1, "default", [])
            account = await store.create_account(
                NewAccount(email="b@example.com", password_hash="x", key_digest="k",
                           tariff_id=1), OLD
            )  # fmt: skip
            await store._sql.run(
                "INSERT INTO messages (id, packet_id, account_id, phone, sender, text, "
                "parts, channel, price, status, created, modified) SELECT i, i, %s, "
                "'79160000000', 'INFORM', 'old', 1, 'sms', 150, 2, %s, %s "
                "FROM generate_series(%s::bigint, %s::bigint) AS i",
                (account.id, OLD, OLD, FIRST, FIRST + messages - 1),
            )
            await store._sql.run("SELECT setval('message_ids', %s)", (FIRST + messages,))
            await store._sql.run("VACUUM ANALYZE messages")
            node = await store._sql.one(
                "SELECT relfilenode FROM pg_class WHERE oid = to_regclass('messages')"
            )
            row = await store._sql.one("SELECT pg_backend_pid()")
            assert row is not None and node is not None
            before = cpu_seconds(int(row[0]))
            # 0030 alone: later migrations are not what this measures.
            vars(core)["migration_scripts"] = lambda d: [m for m in every(d) if m[0] < "0031"]
            assert await store.upgrade() == ["0030_partitions.sql"]
            spent = cpu_seconds(int(row[0])) - before
            kept = await store._sql.one(
                "SELECT relfilenode FROM pg_class WHERE oid = to_regclass('messages_p0')"
            )
            print(
                f"migration 0030 on {messages} messages: server CPU {spent * 1000:.0f} ms; "
                f"old table's file kept (not rewritten): {kept == node}"
            )
        finally:
            vars(core)["migration_scripts"] = every


async def one(dsn: str, way: str, messages: int) -> tuple[float, int]:
    """(server CPU seconds, messages removed) for one way on a fresh schema."""
    async with fresh_store(dsn) as store:
        await store.upgrade()
        await fill(store, messages)
        row = await store._sql.one("SELECT pg_backend_pid()")
        assert row is not None
        before = cpu_seconds(int(row[0]))
        if way == "partition":
            removed = (await store.rotate_partitions(NOW, CUT)).messages
        else:
            removed = 0
            while pruned := await store.prune(CUT, 500):
                removed += pruned.messages
        spent = cpu_seconds(int(row[0])) - before
        left = await store._sql.one("SELECT count(*) FROM messages")
        assert left is not None and left[0] == 0 and removed == messages, (way, removed)
        return spent, removed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--migration", action="store_true")
    args = parser.parse_args()
    if args.migration:
        for _ in range(args.rounds):
            await migration(args.database, args.messages)
        return
    spent: dict[str, list[float]] = {"partition": [], "batches": []}
    for _ in range(args.rounds):
        for way in spent:
            seconds, removed = await one(args.database, way, args.messages)
            spent[way].append(seconds * 1_000_000 / removed)  # ms per 1,000
    for way, costs in spent.items():
        print(
            f"{way:9}  server CPU ms per 1,000 messages removed: median "
            f"{statistics.median(costs):.2f} (each round: "
            + ", ".join(f"{cost:.2f}" for cost in costs)
            + ")"
        )


if __name__ == "__main__":
    asyncio.run(main())
