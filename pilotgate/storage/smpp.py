"""What the SMPP server needs from storage (storage/sql/smpp.py; migrations 0017_smpp and
0019_smpp_limits)."""

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
    #: The account's own limits (None: the operator's default).
    max_binds: int | None = None
    mps: int | None = None


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

    async def set_smpp_limits(
        self, account_id: int, max_binds: int | None, mps: int | None
    ) -> None:
        """The account's own bind and rate limits (None: the default). NotFoundError when it
        has no SMPP credentials."""

    async def hold_smpp_bind(
        self, account_id: int, owner: str, limit: int, now: datetime, until: datetime
    ) -> int | None:
        """A bind row for `owner` until `until`, unless the account already has `limit` live
        ones (None then). Counted under the account's row lock: racing binds from several
        processes never pass the limit together. Rows past their `until` are removed."""

    async def renew_smpp_binds(self, owner: str, until: datetime) -> None:
        """Every bind row of `owner` lives on until `until`."""

    async def release_smpp_bind(self, bind_id: int) -> None: ...

    async def smpp_bind_owners(self, account_id: int, now: datetime) -> int:
        """How many processes hold live binds of the account."""
