"""SqliteStore: the audit trail (migration 0014_audit)."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.audit import AuditEntry

from .core import SqliteCore, _dt, _us


class SqliteAudit(SqliteCore):
    async def add_audit(
        self, actor: str, action: str, account_id: int | None, detail: str, now: datetime
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO audit (at, actor, action, account_id, detail) VALUES (?, ?, ?, ?, ?)",
                (_us(now), actor, action, account_id, detail),
            )

    async def audit_entries(self, account_id: int | None, limit: int) -> list[AuditEntry]:
        rows = self._read(
            "SELECT id, at, actor, action, account_id, detail FROM audit "
            "WHERE ? IS NULL OR account_id = ? ORDER BY id DESC LIMIT ?",
            (account_id, account_id, limit),
        )
        return [
            AuditEntry(
                id=row[0],
                at=_dt(row[1]),
                actor=row[2],
                action=row[3],
                account_id=row[4],
                detail=row[5],
            )
            for row in rows
        ]
