"""The Store interface: what the gateway and the pipeline need, in domain terms.

Every method is one transaction. Implementations translate their driver's exceptions into
`pilotgate.errors.StorageError` (and its subclasses) at this boundary, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from pilotgate.domain.messages import Status
from pilotgate.domain.senders import SenderState

from .migrations import render


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccount:
    email: str
    password_hash: str
    key_digest: str
    tariff_id: int
    name: str = ""
    phone: str = ""
    default_sender: str = ""
    any_sender: bool = False
    allow_ip: str = ""
    callback_secret: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanges:
    """Account settings to change; None leaves a setting as it is."""

    name: str | None = None
    phone: str | None = None
    tariff_id: int | None = None
    default_sender: str | None = None
    any_sender: bool | None = None
    allow_ip: str | None = None
    status_url: str | None = None
    status_method: str | None = None
    inbound_url: str | None = None
    callback_secret: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    id: int
    account_id: int
    name: str
    state: SenderState
    description: str
    callback: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    """What `submit` committed: one server_id per draft (in order) and the new balance."""

    server_ids: list[int]
    balance: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Handover:
    """The pipeline's record that a connector took a message, with its outcome when the
    connector already knows it (the emulator does): the final status applies at `outcome_at`."""

    server_id: int
    connector: str
    remote_id: str
    #: Every part's id, in part order, when the outcome comes later by receipt (SMPP); a
    #: message with no outcome and no ids here is tracked by `remote_id` alone.
    remote_ids: tuple[str, ...] = ()
    outcome_status: Status | None = None
    outcome_error: int = 0
    outcome_at: datetime | None = None
    #: Result fields of a number check, stored with the message (shown once it is final).
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A connector did not take a claimed message: `final` ends it -2 with `error` and gives
    its price back; otherwise it returns to the queue, due again at `retry_at`."""

    server_id: int
    error: int
    final: bool
    retry_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLease:
    name: str
    owner: str
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundSms:
    id: int
    account_id: int
    phone: str
    num: str
    text: str
    created: datetime
    server_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackJob:
    """One HTTP call owed to a customer: a status change of a message (kind "status", `ref`
    the server_id) or an inbound SMS (kind "inbound", `ref` the inbound id)."""

    id: int
    kind: str
    account_id: int
    ref: int
    url: str
    method: str
    status: int | None
    error: int
    attempts: int
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackResult:
    """What one delivery attempt came to: acknowledged, retry at `retry_at`, or given up
    (not acknowledged and no `retry_at`)."""

    job_id: int
    acknowledged: bool
    error: str = ""
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorInfo:
    """A configured connector and its shared counters."""

    name: str
    kind: str
    settings: str  # JSON object, read by the connector kind
    enabled: bool
    mps: int  # messages per second for all processes together; 0 = unlimited
    handed: int  # messages handed over through it, ever
    heartbeat: datetime | None  # the last hand-over
    state: str = ""  # what the link's owner last reported (JSON), for `connector list`


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStats:
    """The state of the queue, for monitoring."""

    accepted: int
    handed_over: int
    scheduled: int
    oldest_due_seconds: float
    callbacks_pending: int
    callbacks_due: int
    #: Claimed, lease over, hand-over not recorded: will end as hand-over unknown.
    in_doubt: int = 0
    #: Messages that ended as hand-over unknown (-1, 606), ever.
    handover_unknown: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StopEntry:
    """A phone on a stop list: `account_id` None is the global list."""

    account_id: int | None
    phone: str
    reason: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """An account a referrer brought, with the commission it has earned the referrer."""

    account_id: int
    email: str
    percent: int
    commission: int  # kopecks, net of claw-backs


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolNumber:
    """A service number that two-way SMS (`from=2WAY`) are sent from, for destinations under
    `prefix` ('' = any), through `connector` ('' = any connector of the message's route)."""

    number: str
    prefix: str
    connector: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TwoWayMatch:
    """The 2WAY message an inbound SMS answers."""

    server_id: int
    account_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TariffInfo:
    id: int
    name: str
    rates: int


def migration_scripts(dialect: str) -> list[tuple[str, str]]:
    """(name, sql) of every migration rendered for `dialect`, in order. Migrations are the
    schema; each is written once for both databases (storage/migrations/__init__.py)."""
    folder = resources.files("pilotgate.storage.migrations")
    scripts = sorted(
        (entry.name, render(entry.read_text(encoding="utf-8"), dialect))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return scripts


@dataclass(frozen=True, slots=True)
class Pruned:
    """What retention removed: messages, inbound messages, and ledger entries folded into
    their account's carried row."""

    messages: int = 0
    inbound: int = 0
    ledger: int = 0

    def __bool__(self) -> bool:
        return bool(self.messages or self.inbound or self.ledger)

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            self.messages + other.messages, self.inbound + other.inbound, self.ledger + other.ledger
        )
