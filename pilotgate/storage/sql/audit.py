"""The store's audit trail (migration 0014_audit): appended by the operator's use cases."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.audit import AuditEntry

from . import rows
from .core import SqlCore

_COLUMNS = "id, at, actor, action, account_id, detail"
_SELECT = f"SELECT {_COLUMNS} FROM audit "
_entry = rows.reader(AuditEntry, _COLUMNS)


class AuditStore(SqlCore):
    async def add_audit(
        self, actor: str, action: str, account_id: int | None, detail: str, now: datetime
    ) -> None:
        """Append one entry; entries are never changed or removed."""
        await self._sql.run(
            "INSERT INTO audit (at, actor, action, account_id, detail) VALUES (%s, %s, %s, %s, %s)",
            (now, actor, action, account_id, detail),
        )

    async def audit_entries(self, account_id: int | None, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries, newest first: of one account, or of all (None)."""
        # Two statements rather than "%s IS NULL OR account_id = %s": PostgreSQL's planner
        # then uses the account's index instead of a plan that must also fit the NULL case.
        if account_id is None:
            found = await self._sql.rows(_SELECT + "ORDER BY id DESC LIMIT %s", (limit,))
        else:
            found = await self._sql.rows(
                _SELECT + "WHERE account_id = %s ORDER BY id DESC LIMIT %s", (account_id, limit)
            )
        return [_entry(row, self._sql.time) for row in found]
