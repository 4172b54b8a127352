"""PostgresStore: the audit trail (migration 0014_audit)."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.audit import AuditEntry

from .core import PostgresCore


class PostgresAudit(PostgresCore):
    async def add_audit(
        self, actor: str, action: str, account_id: int | None, detail: str, now: datetime
    ) -> None:
        await self._count(
            "INSERT INTO audit (at, actor, action, account_id, detail) VALUES (%s, %s, %s, %s, %s)",
            (now, actor, action, account_id, detail),
        )

    async def audit_entries(self, account_id: int | None, limit: int) -> list[AuditEntry]:
        # Two statements rather than "%s IS NULL OR account_id = %s": the planner then uses
        # the account's index instead of a plan that must also fit the NULL case.
        if account_id is None:
            rows = await self._rows(
                "SELECT id, at, actor, action, account_id, detail FROM audit "
                "ORDER BY id DESC LIMIT %s",
                (limit,),
            )
        else:
            rows = await self._rows(
                "SELECT id, at, actor, action, account_id, detail FROM audit "
                "WHERE account_id = %s ORDER BY id DESC LIMIT %s",
                (account_id, limit),
            )
        return [
            AuditEntry(
                id=row[0],
                at=row[1],
                actor=row[2],
                action=row[3],
                account_id=row[4],
                detail=row[5],
            )
            for row in rows
        ]
