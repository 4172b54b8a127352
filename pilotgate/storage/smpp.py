"""What the SMPP server needs from storage (storage/sql/smpp.py; migration 0017_smpp)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
