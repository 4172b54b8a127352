"""The base every part of the one SQL store shares: its driver, and the upgrade that applies
the migrations (storage/migrations/) in the driver's dialect; and what the readiness probe
asks of them (`SchemaStore`, `/readyz`): which migrations this release knows that the
database has not recorded, one cheap statement, so a load balancer may ask every few seconds."""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pilotgate.errors import LockBusyError, NotFoundError

from ..base import migration_scripts
from ..migrations import render
from .driver import Args, Driver
from .rows import MAX_ID, Read

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How often a migration that found its tables busy is tried again (about six minutes in all).
UPGRADE_ATTEMPTS = 70

_CONCURRENT = re.compile(r"\s*CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS (\w+) ON ", re.I)

#: Tables with at least this many rows get their new indexes built CONCURRENTLY; smaller ones
#: are indexed in the migration's transaction in milliseconds.
CONCURRENT_ABOVE = 100_000
_INDEXED = re.compile(r"INDEX CONCURRENTLY IF NOT EXISTS \w+ ON (\w+)", re.I)
#: Another backend running the given CREATE INDEX CONCURRENTLY (a LIKE pattern).
_BUILDING = (
    "SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND datname = current_database() AND state = 'active' AND query ILIKE %s"
)

#: Where a statement names a table it locks (new tables and other words are filtered out by
#: asking the database which of these names are existing tables).
_TOUCHED = re.compile(
    r"\b(?:ALTER TABLE|ON|REFERENCES|UPDATE|INSERT INTO|DELETE FROM|TRUNCATE)\s+"
    r"(?:ONLY\s+|IF EXISTS\s+)?(\w+)",
    re.I,
)

_RECORD = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied {time} NOT NULL)"
)


class SqlCore(ABC):
    """Holds the driver; each dialect's store sets it when it opens. Every role derives from
    it (storage/roles.py); ABC, so a store missing a dialect's part cannot be built."""

    _sql: Driver

    async def _one(self, read: Read[T], query: str, args: Args = ()) -> T | None:
        """The first row of `query` as its record, or None."""
        row = await self._sql.one(query, args)
        return None if row is None else read(row, self._sql.time)

    async def _all(self, read: Read[T], query: str, args: Args = ()) -> list[T]:
        """Every row of `query` as its record, in the statement's order."""
        return [read(row, self._sql.time) for row in await self._sql.rows(query, args)]

    async def _by_ids(
        self, read: Read[T], source: str, ids: Sequence[int], args: Args = ()
    ) -> list[T]:
        """The rows of `source` ("columns FROM table WHERE", then `args`' conditions and AND)
        whose id is one of `ids`, each `read`, in id order: one statement with the ids as one
        parameter (`Driver.int_in`). Ids are 64-bit in both databases: a larger one names
        nothing, and would fail the statement rather than find nothing."""
        wanted = [i for i in ids if -MAX_ID <= i <= MAX_ID]
        if not wanted:
            return []
        query = f"SELECT {source} id {self._sql.int_in} ORDER BY id"
        return await self._all(read, query, (*args, self._sql.ints(wanted)))

    async def _set_account(self, column: str, value: object, account_id: int) -> None:
        """Set one column of an account; raises NotFoundError for an unknown account."""
        query = f"UPDATE accounts SET {column} = %s WHERE id = %s"
        if not await self._sql.run(query, (value, account_id)):
            raise NotFoundError(f"no account {account_id}")

    async def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied, each in its own transaction, in order.

        A transaction first takes the upgrade lock (SQLite's write lock, taken by BEGIN
        IMMEDIATE; an advisory lock in PostgreSQL), so a second process upgrading at the same
        time waits, then finds the name recorded. A failing script leaves the schema as it
        was (DDL is transactional in both). Older nodes keep serving meanwhile (a rolling
        upgrade, docs/upgrades.md): a migration's statements wait at most a second for the
        table locks those nodes' transactions hold, because every send queued behind a
        waiting ALTER waits too; when the wait runs out the migration is rolled back and
        tried again a little later, up to `UPGRADE_ATTEMPTS` times."""
        async with self._sql.tx() as tx:
            if self._sql.upgrade_lock:
                await tx.run(self._sql.upgrade_lock)
            await tx.run(render(_RECORD, self._sql.dialect))
            done = {row[0] for row in await tx.rows("SELECT name FROM schema_migrations")}
        applied = []
        for name, script in migration_scripts(self._sql.dialect):
            if name not in done and await self._migrate(name, script):
                applied.append(name)
        return applied

    async def _migrate(self, name: str, script: str) -> bool:
        """Run one migration unless another process recorded it first; False then."""
        if _CONCURRENT.search(script):
            if await self._big_tables(script):
                return await self._build_indexes(name, script)
            # Small tables (a new installation, a test): a plain build takes milliseconds,
            # and in the migration's transaction it needs none of the care below.
            script = re.sub(r"\bCONCURRENTLY\s+", "", script)
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            try:
                async with self._sql.tx() as tx:
                    if self._sql.upgrade_lock:
                        await tx.run(self._sql.upgrade_lock)
                    found = await tx.one("SELECT 1 FROM schema_migrations WHERE name = %s", (name,))
                    if found is not None:
                        return False
                    if self._sql.migration_lock_wait:
                        await tx.run(self._sql.migration_lock_wait)
                    if self._sql.lock_tables:
                        # All at once, before any DDL: a migration that held one table
                        # while it waited for the next could deadlock with a send.
                        names = sorted({n.lower() for n in _TOUCHED.findall(script)})
                        tables = [row[0] for row in await tx.rows(self._sql.tables_named, (names,))]
                        if tables:
                            await tx.run(self._sql.lock_tables.format(", ".join(tables)))
                    await tx.script(script)
                    await tx.run(
                        "INSERT INTO schema_migrations (name, applied) VALUES (%s, %s)",
                        (name, datetime.now(UTC)),
                    )
                return True
            except LockBusyError:
                if attempt == UPGRADE_ATTEMPTS:
                    raise
                log.warning("migration %s: tables busy, attempt %d failed; retrying", name, attempt)
                await asyncio.sleep(min(0.2 * attempt, 5.0))
        raise AssertionError("unreachable")

    async def _big_tables(self, script: str) -> bool:
        """Whether any table the script indexes holds `CONCURRENT_ABOVE` rows or more."""
        for table in _INDEXED.findall(script):
            row = await self._sql.one(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t", (CONCURRENT_ABOVE,)
            )
            if row is not None and row[0] >= CONCURRENT_ABOVE:
                return True
        return False

    async def _build_indexes(self, name: str, script: str) -> bool:
        """A migration of `CREATE INDEX CONCURRENTLY IF NOT EXISTS` statements: each outside
        a transaction (PostgreSQL refuses one inside), so writers go on while it builds.

        Two processes building the same index deadlock (PostgreSQL breaks it by failing
        one), and a build that died leaves an invalid index behind. So: an index another
        backend is building is waited for; an invalid one nobody builds is dropped and built
        again; a build that lost a deadlock is tried again, by which time the other has
        usually recorded the migration. Recorded afterwards, under the upgrade lock."""
        statements = [_code(part).strip() for part in script.split(";") if _code(part).strip()]
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            if await self._sql.one("SELECT 1 FROM schema_migrations WHERE name = %s", (name,)):
                return False
            try:
                for statement in statements:
                    await self._build_index(name, statement)
                break
            except LockBusyError:
                if attempt == UPGRADE_ATTEMPTS:
                    raise
                log.warning("migration %s: index being built elsewhere, attempt %d", name, attempt)
                await asyncio.sleep(min(0.2 * attempt, 5.0))
        async with self._sql.tx() as tx:
            await tx.run(self._sql.upgrade_lock)
            inserted = await tx.run(
                "INSERT INTO schema_migrations (name, applied) VALUES (%s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, datetime.now(UTC)),
            )
        return inserted == 1

    async def _build_index(self, name: str, statement: str) -> None:
        found = _CONCURRENT.match(statement)
        if found is None:
            raise ValueError(f"{name}: only CREATE INDEX CONCURRENTLY IF NOT EXISTS here")
        index = found[1]
        if await self._sql.one(_BUILDING, (f"%INDEX CONCURRENTLY IF NOT EXISTS {index} %",)):
            raise LockBusyError(f"index {index} is being built by another process")
        valid = await self._sql.one(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            (index,),
        )
        if valid is not None and not valid[0]:
            await self._sql.run(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
        await self._sql.run(statement)

    async def close(self) -> None:
        await self._sql.close()


class SchemaStore(SqlCore):
    """What the readiness probe reads (`/readyz`)."""

    async def pending_migrations(self) -> list[str]:
        """Names of this release's migrations the database has not recorded, in order;
        raises StorageError when the database cannot be reached."""
        # A database restored from an older backup, or one a newer release's `db upgrade`
        # has not reached yet, is reachable but not current: names it lacks are pending.
        # Names it has that we do not know (a newer release upgraded it) are not our
        # concern: migrations only add, so this release still runs on it.
        recorded = {row[0] for row in await self._sql.rows("SELECT name FROM schema_migrations")}
        return [name for name, _ in migration_scripts(self._sql.dialect) if name not in recorded]


def _code(part: str) -> str:
    """A statement's text without its comment lines."""
    return "\n".join(line for line in part.splitlines() if not line.strip().startswith("--"))
