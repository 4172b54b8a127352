"""The roles of accounts and their settings: money, keys, senders and tariffs; the stop and
allow lists; the schema; the numbering plan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.numbering import PlanRange
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Rate

from ..base import (
    AccountChanges,
    NewAccount,
    Referral,
    Sender,
    StopEntry,
    TariffInfo,
)


class AccountStore(Protocol):
    """Accounts, their keys and money, sender names and tariffs."""

    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        """Raises ConflictError when the e-mail or key is taken."""

    async def account(self, account_id: int) -> Account | None: ...

    async def account_by_key(self, digest: str) -> Account | None: ...

    async def account_by_email(self, email: str) -> Account | None: ...

    async def accounts(self) -> list[Account]: ...

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        """Raises NotFoundError for an unknown account."""

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        """Apply `changes`; raises NotFoundError for an unknown account."""

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        """Raises ConflictError when the key is taken."""

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        """Write a ledger row of `amount` kopecks (negative debits) and return the new
        balance. Raises InsufficientFundsError if the balance would go below zero."""

    async def ledger_sum(self, account_id: int) -> int:
        """The sum of the account's ledger rows (equals its balance, always)."""

    async def add_sender(
        self,
        account_id: int,
        name: str,
        description: str,
        callback: str,
        state: SenderState,
        now: datetime,
    ) -> Sender:
        """Raises ConflictError when the account already has that name."""

    async def set_sender_state(self, sender_id: int, state: SenderState) -> Sender:
        """Raises NotFoundError for an unknown sender id."""

    async def senders(self, account_id: int) -> list[Sender]: ...

    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        """Create or replace the whole tariff with these rates."""

    async def tariff_rates(self, tariff_id: int) -> list[Rate]: ...

    async def tariffs(self) -> list[TariffInfo]: ...


class ListStore(Protocol):
    """Stop lists, loop protection and referrals."""

    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        """Put phones on the account's stop list (None: the global one); returns how many
        were not there yet."""

    async def remove_stop(self, account_id: int | None, phone: str) -> bool: ...

    async def stop_entries(self, account_id: int | None) -> list[StopEntry]: ...

    async def stopped(self, account_id: int, phones: Sequence[str]) -> set[str]:
        """Those of `phones` on the account's or the global stop list (one query)."""

    async def recent_texts(
        self, account_id: int, phones: Sequence[str], since: datetime
    ) -> set[tuple[str, str]]:
        """(phone, text) of the account's messages to `phones` created at or after `since`,
        failed ones (-2) excepted (one query)."""

    async def set_loop_window(self, account_id: int, seconds: int | None) -> None:
        """The account's loop window; None = the gateway's default. NotFoundError if none."""

    async def link_referrer(self, account_id: int, referrer_id: int, percent: int) -> bool:
        """Record `referrer_id` as the account's referrer with its share, unless the account
        has one already, the referrer does not exist, or it would close a cycle."""

    async def referrals(self, referrer_id: int) -> list[Referral]: ...


class SchemaStore(Protocol):
    """What the readiness probe reads (`/readyz`)."""

    async def pending_migrations(self) -> list[str]:
        """Names of this release's migrations the database has not recorded, in order;
        raises StorageError when the database cannot be reached."""


class NumberingStore(Protocol):
    """The numbering plan and the ported numbers (issue 17): replaced whole, versioned."""

    async def numbering_version(self) -> int:
        """Bumped by every import: a process whose snapshot is older reloads it."""

    async def replace_plan(self, ranges: Sequence[PlanRange], now: datetime) -> int:
        """Replace every range in one transaction; returns the new version."""

    async def replace_ported(
        self, ports: Iterable[tuple[int, str, str]], now: datetime, *, increment: bool
    ) -> int:
        """`(number, operator, mnc)` rows: replace the whole list in one transaction, or
        (`increment`) add them, replacing the entries of the numbers already listed. Returns
        the new version."""

    async def plan_ranges(self) -> list[PlanRange]: ...

    async def ported_after(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        """Up to `limit` ported numbers above `after`, in number order."""

    async def plan_range_at(self, number: int) -> PlanRange | None:
        """The range holding `number` (a plan number as an int), if any."""

    async def ported_number(self, number: int) -> tuple[int, str, str] | None: ...
