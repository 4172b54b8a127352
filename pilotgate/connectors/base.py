"""The connector interface. A connector takes a batch of claimed messages and says, for
each, that it took it (with its own ids for it) and, when it already knows, the final outcome
and when it applies; or that it refused it, for good or for now. Long-lived links (SMPP)
also report what arrives later on their own: delivery receipts and inbound messages, through
the `Events` sink the pipeline gives them at start. Connectors never touch storage: the
pipeline records what they say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from pilotgate.domain.messages import Message, Status, ending
from pilotgate.domain.receipts import Receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """The connector took the message. `remote_id` is its id for the first part; a message
    sent in several parts lists every part's id, in part order, in `remote_ids`."""

    server_id: int
    remote_id: str
    remote_ids: tuple[str, ...] = ()
    outcome_status: Status | None = None  # None: a receipt will tell later
    outcome_error: int = 0
    outcome_at: datetime | None = None
    #: Result fields of a number check (`imsi`, `mcc`, `net`…, see domain.checks).
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Storage later moves the message 1 -> outcome_status in SQL without asking the
        # status table, so it is asked here: a connector answering 0, 1, 3 or -2 is a bug
        # (the outbox puts its batch back in the queue, logged), never a stuck message.
        if self.outcome_status is not None:
            ending(self.outcome_status)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """The connector did not take the message. `final`: it never will (the message ends
    -2 with `error`, uncharged); otherwise it goes back to the queue and is tried again
    after `retry_after` seconds."""

    server_id: int
    error: int
    final: bool
    retry_after: float = 1.0
    reason: str = ""


Outcome = Accepted | Rejected


@dataclass(frozen=True, slots=True, kw_only=True)
class MobileOriginated:
    """An SMS a phone sent to one of our numbers, already reassembled and decoded."""

    phone: str  # who sent it, digits in international form
    number: str  # our number it was sent to
    text: str
    received: datetime
    #: The connector's id of the message this answers, when the connector knows it (a
    #: relay's upstream links replies to two-way SMS itself); '' = match by number.
    reply_to: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkState:
    """What `pilotgate connector list` shows for a live link."""

    bound: bool
    window_used: int = 0
    window: int = 0
    submitted: int = 0
    receipts: int = 0
    errors: int = 0
    detail: dict[str, str] = field(default_factory=dict)


class Events(Protocol):
    """The pipeline's side of a link: it stores what the link reports, durably, before
    returning, so a link may acknowledge the PDU (deliver_sm_resp) after the call."""

    async def receipts(self, connector: str, receipts: Sequence[Receipt]) -> None: ...

    async def inbound(self, connector: str, messages: Sequence[MobileOriginated]) -> None: ...

    async def pending(self, connector: str, limit: int) -> list[str]:
        """Up to `limit` remote ids the connector took (recorded hand-overs) whose outcome is
        still unknown, oldest first: what a link that polls for outcomes asks about."""
        ...


class Connector(Protocol):
    name: str

    async def submit(self, messages: Sequence[Message], now: datetime) -> Sequence[Outcome]:
        """Hand `messages` over; one outcome per message, in any order. Raises
        ConnectorError when the link cannot take any of them now (down, unbound)."""


@runtime_checkable
class Link(Protocol):
    """A connector with a life of its own: started once by its owning process, stopped in
    the shutdown sequence (stop taking messages, drain the window, unbind)."""

    name: str

    async def start(self, events: Events) -> None: ...

    async def stop(self) -> None: ...

    def state(self) -> LinkState: ...
