"""The base every part of the one SQL store shares: its driver, and the upgrade that applies
the migrations (storage/migrations/) in the driver's dialect."""

from __future__ import annotations

from datetime import UTC, datetime

from ..base import migration_scripts
from ..migrations import render
from .driver import Driver

_RECORD = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied {time} NOT NULL)"
)


class SqlCore:
    """Holds the driver; each dialect's store sets it when it opens."""

    _sql: Driver

    async def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied, in one transaction that also serialises
        upgrades across processes (SQLite's write lock, taken by BEGIN IMMEDIATE; an advisory
        lock in PostgreSQL): a second process upgrading at the same time waits, then finds
        every name recorded. A failing script leaves the schema as it was (DDL is
        transactional in both)."""
        applied = []
        async with self._sql.tx() as tx:
            if self._sql.upgrade_lock:
                await tx.run(self._sql.upgrade_lock)
            await tx.run(render(_RECORD, self._sql.dialect))
            done = {row[0] for row in await tx.rows("SELECT name FROM schema_migrations")}
            for name, script in migration_scripts(self._sql.dialect):
                if name in done:
                    continue
                await tx.script(script)
                await tx.run(
                    "INSERT INTO schema_migrations (name, applied) VALUES (%s, %s)",
                    (name, datetime.now(UTC)),
                )
                applied.append(name)
        return applied

    async def close(self) -> None:
        await self._sql.close()
