"""The base every part of the one SQL store shares: its driver, and the upgrade that applies
the migrations (storage/migrations/) in the driver's dialect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pilotgate.errors import LockBusyError

from ..base import migration_scripts
from ..migrations import render
from .driver import Driver, Statements

log = logging.getLogger(__name__)

#: How often a migration that found its tables busy is tried again (about six minutes in all).
UPGRADE_ATTEMPTS = 70
#: Seconds between tries of the upgrade lock another process holds.
UPGRADE_LOCK_POLL = 0.2

_CONCURRENT = re.compile(r"\s*CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS (\w+) ON ", re.I)

_RECORD = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied {time} NOT NULL)"
)


class SqlCore:
    """Holds the driver; each dialect's store sets it when it opens."""

    _sql: Driver

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
        async with self._upgrade_tx() as tx:
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
            return await self._build_indexes(name, script)
        for attempt in range(1, UPGRADE_ATTEMPTS + 1):
            try:
                async with self._upgrade_tx() as tx:
                    found = await tx.one("SELECT 1 FROM schema_migrations WHERE name = %s", (name,))
                    if found is not None:
                        return False
                    if self._sql.migration_lock_wait:
                        await tx.run(self._sql.migration_lock_wait)
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

    @contextlib.asynccontextmanager
    async def _upgrade_tx(self) -> AsyncIterator[Statements]:
        """A transaction holding the upgrade lock. On PostgreSQL the lock is tried, and while
        another process holds it the transaction ends and is tried again a moment later: a
        waiting upgrade holds no connection, so behind PgBouncer in transaction pooling mode
        (docs/pooling.md) the holder always finds a server session for the index builds it
        runs beside its locked transaction. SQLite's BEGIN IMMEDIATE waits by itself."""
        while True:
            async with self._sql.tx() as tx:
                taken = await tx.one(self._sql.upgrade_lock) if self._sql.upgrade_lock else (1,)
                if taken is not None and taken[0]:
                    yield tx
                    return
            await asyncio.sleep(UPGRADE_LOCK_POLL)

    async def _build_indexes(self, name: str, script: str) -> bool:
        """A migration of `CREATE INDEX CONCURRENTLY IF NOT EXISTS` statements: each outside
        a transaction (PostgreSQL refuses one inside), so writers go on while it builds. A
        build that failed before (a crash, a duplicate) leaves an invalid index: it is dropped
        and built again.

        The builds run while this process holds the upgrade lock in a transaction of its own,
        which also records the migration: two processes upgrading at once must not build one
        index together (PostgreSQL fails one of them: "tuple concurrently updated", or a
        deadlock). That transaction locks no table and holds no snapshot between its
        statements, so the builds do not wait for it; and it is a transaction's lock, not a
        session's, so it holds through PgBouncer. It takes two connections of the pool."""
        statements = [_code(part).strip() for part in script.split(";") if _code(part).strip()]
        indexes = []
        for statement in statements:
            match = _CONCURRENT.match(statement)
            if match is None:
                raise ValueError(f"{name}: only CREATE INDEX CONCURRENTLY IF NOT EXISTS here")
            indexes.append((match[1], statement))
        async with self._upgrade_tx() as guard:
            found = await guard.one("SELECT 1 FROM schema_migrations WHERE name = %s", (name,))
            if found is not None:
                return False
            # A statement's unnamed portal keeps its snapshot until the next statement, and a
            # build waits for every older snapshot: a plain query (no parameters) ends it.
            await guard.script("SELECT 1")
            for index, statement in indexes:
                valid = await self._sql.one(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
                    "ON c.oid = i.indexrelid "
                    "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
                    (index,),
                )
                if valid is not None and not valid[0]:
                    await self._sql.run(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
                await self._sql.run(statement)
            await guard.run(
                "INSERT INTO schema_migrations (name, applied) VALUES (%s, %s)",
                (name, datetime.now(UTC)),
            )
        return True

    async def close(self) -> None:
        await self._sql.close()


def _code(part: str) -> str:
    """A statement's text without its comment lines."""
    return "\n".join(line for line in part.splitlines() if not line.strip().startswith("--"))
