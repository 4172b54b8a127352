"""A migration during a rolling upgrade waits at most a second for the tables older nodes are
using (docs/upgrades.md): past that it is rolled back, nothing of it is recorded, and it is
tried again; once the tables are free it applies. PostgreSQL only: SQLite's upgrade holds
the one write lock, so nothing queues behind a waiting ALTER there."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from pilotgate.errors import LockBusyError
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.sql import core
from tests.postgres import fresh_schema

pytestmark = pytest.mark.postgres

MIGRATION = ("9999_probe", "ALTER TABLE accounts ADD COLUMN probe integer")


async def _columns(dsn: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'accounts' AND table_schema = current_schema()"
        )
        return [row[0] for row in await cursor.fetchall()]


async def test_a_migration_gives_up_on_a_busy_table_and_applies_once_it_is_free(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await PostgresStore.open(postgres_dsn, max_size=2)
    try:
        await store.upgrade()
        monkeypatch.setattr(core, "UPGRADE_ATTEMPTS", 2)
        # An older node's transaction that has read the accounts table and not yet
        # committed: the ALTER needs a lock that conflicts with its share lock.
        holder = await psycopg.AsyncConnection.connect(postgres_dsn)
        try:
            await holder.execute("BEGIN")
            await holder.execute("SELECT count(*) FROM accounts")
            with pytest.raises(LockBusyError):
                await store._migrate(*MIGRATION)
            assert "probe" not in await _columns(postgres_dsn)
            recorded = await store._sql.rows("SELECT name FROM schema_migrations")
            assert MIGRATION[0] not in [row[0] for row in recorded]
            # Meanwhile writes to the table still go through (no ALTER is queued ahead).
            async with await psycopg.AsyncConnection.connect(postgres_dsn) as writer:
                await writer.execute("SET lock_timeout = '5s'")
                await writer.execute("UPDATE accounts SET name = name")
        finally:
            await holder.execute("COMMIT")
            await holder.close()
        assert await store._migrate(*MIGRATION) is True
        assert "probe" in await _columns(postgres_dsn)
        # Recorded once: a second upgrader finds it done.
        assert await store._migrate(*MIGRATION) is False
    finally:
        await store.close()


INDEX = (
    "9998_index",
    "-- an index on an existing table\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_probe ON accounts(name);\n",
)


async def test_an_index_on_an_existing_table_is_built_concurrently_and_recorded_once(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "CONCURRENT_ABOVE", 0)  # as if the ledger were big
    store = await PostgresStore.open(postgres_dsn, max_size=2)
    try:
        await store.upgrade()
        # A build that died half-way left an invalid index of that name behind.
        async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
            await conn.execute("CREATE INDEX accounts_probe ON accounts(name)")
            await conn.execute(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                "'accounts_probe'::regclass"
            )
        assert await store._migrate(*INDEX) is True
        async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
            cursor = await conn.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_probe'::regclass"
            )
            assert await cursor.fetchall() == [(True,)]
        assert await store._migrate(*INDEX) is False
    finally:
        await store.close()


async def test_two_processes_building_one_index_record_it_once(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "CONCURRENT_ABOVE", 0)
    one = await PostgresStore.open(postgres_dsn, max_size=2)
    two = await PostgresStore.open(postgres_dsn, max_size=2)
    try:
        await one.upgrade()
        results = await asyncio.gather(one._migrate(*INDEX), two._migrate(*INDEX))
        assert sorted(results) == [False, True]
    finally:
        await one.close()
        await two.close()


async def _waiting_on_advisory(dsn: str) -> bool:
    """Whether a session waits for this schema's upgrade lock (other tests' locks aside)."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) "
            "= hashtextextended(current_schema() || '/' || 'pilotgate.upgrade', 0)"
        )
        row = await cursor.fetchone()
        return row is not None and row[0] > 0


async def test_the_upgrade_lock_holds_within_a_schema_and_not_across_schemas(
    postgres_dsn: str,
) -> None:
    """Two installations in schemas of one database upgrade side by side; two processes of
    one installation still take turns."""
    store = await PostgresStore.open(postgres_dsn, max_size=2)
    holder = await psycopg.AsyncConnection.connect(postgres_dsn)
    try:
        await store.upgrade()
        # A process of this installation in the middle of a migration.
        await holder.execute("BEGIN")
        await holder.execute(store._sql.upgrade_lock)
        with fresh_schema() as other_dsn:
            other = await PostgresStore.open(other_dsn, max_size=2)
            try:
                # Another schema's whole upgrade does not wait for it (a hang fails here).
                applied = await asyncio.wait_for(other.upgrade(), timeout=60)
                assert applied, "the other schema was migrated from nothing"
            finally:
                await other.close()
        # This schema's next migration waits for it, and applies once it is released.
        migrating = asyncio.create_task(store._migrate(*MIGRATION))
        while not await _waiting_on_advisory(postgres_dsn):
            assert not migrating.done(), "the migration did not wait for the upgrade lock"
            await asyncio.sleep(0.01)
        assert not migrating.done()
        await holder.execute("COMMIT")
        assert await asyncio.wait_for(migrating, timeout=60) is True
    finally:
        await holder.close()
        await store.close()
