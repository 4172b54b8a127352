"""Writing and reading the audit trail. Each use case records its change after the change is
stored: the trail never names a change that did not happen; a crash between the two loses
the entry, not the change (docs/decisions.md "One audit trail")."""

from __future__ import annotations

from pilotgate.domain.audit import DETAIL_LENGTH, AuditEntry
from pilotgate.gateway import Gateway


async def record(
    gateway: Gateway, actor: str, action: str, account_id: int | None, detail: str = ""
) -> None:
    await gateway.store.add_audit(
        actor, action, account_id, detail[:DETAIL_LENGTH], gateway.clock()
    )


async def trail(
    gateway: Gateway, account_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest entries first: of one account, or of everything (None)."""
    return await gateway.store.audit_entries(account_id, limit)
