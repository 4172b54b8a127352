"""The records of the web dashboard's roles (`OperatorStore`, storage/sql/operators.py;
`DashboardReads`, storage/sql/dashboard.py; migration 0011_dashboard): operators, history by
keyset, the ledger, callback attempts and the per-day statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pilotgate.domain.messages import Message


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
