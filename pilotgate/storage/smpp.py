"""What the SMPP server needs from storage: credentials (storage/sql/smpp.py; migration
0017_smpp) and the deliver_sm owed to binds (storage/sql/smpp_deliveries.py; 0018)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pilotgate.domain.deliver_sm import Owed


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppCredentials:
    account_id: int
    system_id: str
    password_hash: str
    changed: datetime


class SmppStore(Protocol):
    async def set_smpp_credentials(
        self, account_id: int, system_id: str, password_hash: str, now: datetime
    ) -> None:
        """Give the account this system_id and password hash (replacing any it had).
        Raises ConflictError when another account has the system_id or the account does not
        exist."""

    async def drop_smpp_credentials(self, account_id: int) -> None:
        """The account can no longer bind (nothing happens when it could not)."""

    async def smpp_credentials(self, account_id: int) -> SmppCredentials | None: ...

    async def smpp_login(self, system_id: str) -> SmppCredentials | None:
        """The credentials a bind with `system_id` is checked against (exact match)."""


class SmppDeliveryStore(Protocol):
    """The deliver_sm owed to accounts' receiving binds (storage/sql/smpp_deliveries.py;
    migration 0018): written by the database's triggers, claimed with a lease, deleted once
    answered."""

    async def claim_smpp_deliveries(
        self, account_id: int, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Owed]:
        """Up to `limit` of the account's rows that are due and not leased (or whose lease
        ran out), oldest first, now leased to `owner` until `lease_until`. Two claims never
        hold one row at once (SKIP LOCKED on PostgreSQL)."""

    async def finish_smpp_deliveries(self, owner: str, ids: Sequence[int]) -> int:
        """Delete these rows (answered with status 0) if `owner` still holds them; how many."""

    async def retry_smpp_deliveries(
        self, owner: str, ids: Sequence[int], due_at: datetime, error: str
    ) -> int:
        """Give these rows back, due again at `due_at`, one attempt more; how many."""

    async def drop_smpp_deliveries(self, before: datetime) -> int:
        """Delete the rows created before `before` (past their validity); how many."""

    async def smpp_deliveries_waiting(self) -> dict[int, int]:
        """Rows owed per account id (accounts owed nothing are absent)."""
