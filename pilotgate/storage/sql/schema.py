"""What the readiness probe asks the database (`/readyz`): which migrations this release
knows that the database has not recorded. One cheap statement, so a load balancer may ask
every few seconds."""

from __future__ import annotations

from ..base import migration_scripts
from .core import SqlCore


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
