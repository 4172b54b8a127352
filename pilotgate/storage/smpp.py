"""What the SMPP server needs from storage: credentials and limits (storage/sql/smpp.py;
migrations 0017_smpp and 0019_smpp_limits) and the deliver_sm owed to binds
(storage/sql/smpp_deliveries.py; 0018)."""

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
    #: The account's own limits (None: the operator's default).
    max_binds: int | None = None
    mps: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppBindSeen:
    """A live bound session as the console shows it (migration 0026_smpp_seen)."""

    id: int
    account_id: int
    #: The process serving it (host:pid:random).
    owner: str
    #: transmitter, receiver or transceiver; "" for a row an older node wrote.
    bind_type: str
    address: str
    since: datetime | None
    #: Requests in flight and thousandths of a message per second, as of the last renewal.
    window_used: int
    mps_milli: int


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
        self,
        account_id: int,
        owner: str,
        limit: int,
        now: datetime,
        until: datetime,
        *,
        bind_type: str = "",
        address: str = "",
    ) -> int | None:
        """A bind row for `owner` until `until`, unless the account already has `limit` live
        ones (None then). Counted under the account's row lock: racing binds from several
        processes never pass the limit together. Rows past their `until` are removed. The
        row records the bind type, the client's address and `now` as its bind time."""

    async def renew_smpp_binds(
        self, owner: str, until: datetime, seen: Sequence[tuple[int, int, int]] = ()
    ) -> None:
        """Every bind row of `owner` lives on until `until`. With `seen` (bind id, window in
        use, thousandths of msgs/s), one statement renews those rows and records their use."""

    async def smpp_binds_live(self, now: datetime) -> list[SmppBindSeen]:
        """Every bind row still live at `now`, of every process, by account then bind time."""

    async def release_smpp_bind(self, bind_id: int) -> None: ...

    async def smpp_bind_owners(self, account_id: int, now: datetime) -> int:
        """How many processes hold live binds of the account."""


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
