"""What the audit trail needs from storage (storage/sql/audit.py; migration 0014_audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pilotgate.domain.audit import AuditEntry


class AuditStore(Protocol):
    async def add_audit(
        self, actor: str, action: str, account_id: int | None, detail: str, now: datetime
    ) -> None:
        """Append one entry; entries are never changed or removed."""

    async def audit_entries(self, account_id: int | None, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries, newest first: of one account, or of all (None)."""
