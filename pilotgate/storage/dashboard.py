"""What the web dashboard needs from storage beyond the API's roles: operators, login
lockout, the cookie-signing secret, history by keyset, the ledger, callback attempts and the
per-day statistics (storage/sql/dashboard.py; migration 0011_dashboard)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from pilotgate.domain.messages import Message
from pilotgate.domain.senders import SenderState

from .base import Sender


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """A console user: separate from customer accounts, created by `pilotgate operator add`."""

    id: int
    email: str
    password_hash: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """A filtered view of an account's messages, newest first, one page after `before_id`.
    Every field None (or '') means "no filter"."""

    before_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    phone: str = ""
    status: int | None = None
    sender: str = ""
    channel: str = ""
    text: str = ""  # a substring of the text


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPage:
    """What `history` found. A text search examines at most `window` messages of the account
    (newest first below `before_id`, within the dates): `searched_to` is then the lowest id it
    examined when older messages are left unsearched and the page is not full, else None.
    Searching on with `before_id=searched_to` continues where this one stopped."""

    messages: list[Message]
    searched_to: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    id: int
    amount: int  # kopecks; negative debits
    kind: str
    note: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAttempt:
    """One status change of a message as its callback job recorded it."""

    status: int | None
    error: int
    url: str
    created: datetime
    attempts: int
    last_error: str
    done_at: datetime | None
    failed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DayStat:
    """Messages of one account created on `day` (UTC) now in `status`, by operator."""

    day: date
    status: int
    operator: str
    count: int
    spend: int  # kopecks


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderVerdict:
    """An operator's decision on a sender name, for the callback that reports it."""

    sender_id: int
    account_id: int
    name: str
    state: str
    reason: str


def day_groups(
    rows: Iterable[tuple[int, int, int, str, int]],
) -> list[tuple[int, int, int, str, int, int]]:
    """(account_id, day, status, operator, count, spend) of new messages given as
    (account_id, day, status, operator, price): what `submit` adds to the statistics."""
    groups: dict[tuple[int, int, int, str], list[int]] = {}
    for account_id, day, status, operator, price in rows:
        group = groups.setdefault((account_id, day, status, operator), [0, 0])
        group[0] += 1
        group[1] += price
    return [(*key, count, spend) for key, (count, spend) in sorted(groups.items())]


class OperatorStore(Protocol):
    """Console users, the passwords and keys they reset, sender verdicts, login lockout and
    the session secret."""

    async def add_operator(self, email: str, password_hash: str, now: datetime) -> Operator:
        """Raises ConflictError when the e-mail is taken."""

    async def operator(self, operator_id: int) -> Operator | None: ...

    async def operator_by_email(self, email: str) -> Operator | None: ...

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None: ...

    async def set_account_password(self, account_id: int, password_hash: str) -> None:
        """Raises NotFoundError for an unknown account."""

    async def replace_api_keys(self, account_id: int, digest: str, now: datetime) -> None:
        """The account's only key becomes `digest`: every older key stops working."""

    async def all_senders(self, state: SenderState | None) -> list[Sender]:
        """Every account's sender names (in `state`), oldest first."""

    async def set_sender_verdict(
        self, sender_id: int, state: SenderState, reason: str, now: datetime
    ) -> Sender:
        """Approve or reject a name with a reason; when its callback is an http(s) URL a
        callback job of kind 'sender' reports the verdict, in the same transaction.
        Raises NotFoundError for an unknown sender id."""

    async def sender_verdicts(self, ids: Sequence[int]) -> list[SenderVerdict]:
        """The verdicts of these sender ids (for the callback worker)."""

    async def login_failures(self, who: str, since: datetime) -> int:
        """Failed logins recorded for `who` (e.g. 'c:email|ip') at or after `since`."""

    async def record_login_failure(self, who: str, now: datetime) -> None: ...

    async def clear_login_failures(self, who: str) -> None: ...

    async def dashboard_secret(self, candidate: str) -> str:
        """The secret that signs session cookies: `candidate` stored on first use, so every
        process of the gateway signs with the same one."""


class DashboardReads(Protocol):
    """The cabinet's views: history, ledger, callback attempts and per-day statistics."""

    async def history(
        self, account_id: int, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        """One page of the account's messages matching `query`, newest (highest id) first.
        Keyset-paged on server_id, so page 10,000 costs what page 1 does. A text filter has
        no index: it examines at most `window` of the account's messages below `before_id`
        (the bound found through the (account_id, id) index), and says how far it got in
        `searched_to` when it stopped there with older messages unsearched."""

    async def ledger(self, account_id: int, before_id: int | None, limit: int) -> list[LedgerEntry]:
        """The account's ledger rows, newest first, keyset-paged on id."""

    async def callback_attempts(self, account_id: int, server_id: int) -> list[CallbackAttempt]:
        """The status callback jobs of one of the account's messages, oldest first."""

    async def fold_statistics(self, limit: int) -> int:
        """Fold up to `limit` pending statistics changes into the per-day table (PostgreSQL
        appends them as deltas; SQLite counts in place and has nothing to fold)."""

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        """Per-day counts and spend of the account's messages created from `since` to `until`
        inclusive, from the aggregate table the database maintains (never a scan of
        messages)."""
