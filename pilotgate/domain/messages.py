"""Message statuses and the only moves between them (contract §6).

    3 scheduled ──> 0 accepted ──> 1 handed over ──> 2 delivered
      │                 │                 └────────> -1 not delivered
      │                 └──> -2 error (never charged)
      └──> -2/604 cancelled by its owner (refunded: it never left; storage/sql/cancels.py)
    any non-final ──> -1 when the ttl runs out
    1 ──> 0 only when a VIBERSMS message's Viber attempt fails: it is queued again as an
          SMS (domain/hybrid.py); no callback reports that step
    4 held ──> 0 accepted   the operator released it (it is charged then)
           └─> -2 error 223 the operator rejected it (it never was charged)

A held message (domain/pumping.py) is stored but neither sent nor charged, and no ttl
expires it: only the operator's word moves it on.

A final status never changes. This table is the one source: Python checks a status it
computes with `move` or `ending`, and the SQL in storage/ (which moves statuses itself) is
held to it by tests/contract/test_status_moves.py on both databases.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from .hybrid import Fallback


class Status(enum.IntEnum):
    ERROR = -2  #: not accepted / not sent; not charged
    UNDELIVERED = -1  #: expired, undeliverable, rejected; HLR not served; PING offline
    ACCEPTED = 0  #: in our queue
    HANDED_OVER = 1  #: given to the operator (connector)
    DELIVERED = 2  #: delivered; voice answered; HLR served; PING online
    SCHEDULED = 3  #: waiting for send_datetime
    HELD = 4  #: suspected SMS pumping: waiting for the operator (not sent, not charged)


FINAL: frozenset[Status] = frozenset({Status.ERROR, Status.UNDELIVERED, Status.DELIVERED})

ALLOWED: dict[Status, frozenset[Status]] = {
    # ERROR: cancelled by its owner (API-1 `cancel`, SMPP cancel_sm), the price refunded.
    Status.SCHEDULED: frozenset({Status.ACCEPTED, Status.UNDELIVERED, Status.ERROR}),
    Status.ACCEPTED: frozenset({Status.HANDED_OVER, Status.ERROR, Status.UNDELIVERED}),
    # ACCEPTED: the hybrid fallback (domain/hybrid.py), never an ordinary move.
    Status.HANDED_OVER: frozenset({Status.DELIVERED, Status.UNDELIVERED, Status.ACCEPTED}),
    Status.DELIVERED: frozenset(),
    Status.UNDELIVERED: frozenset(),
    Status.ERROR: frozenset(),
    Status.HELD: frozenset({Status.ACCEPTED, Status.ERROR}),
}


#: What a message is stored with: queued, scheduled, held, or refused at once (never charged).
INITIAL: frozenset[Status] = frozenset(
    {Status.ACCEPTED, Status.SCHEDULED, Status.ERROR, Status.HELD}
)

#: How a handed-over message ends by its connector's word (an outcome or its receipts);
#: 1 -> 0 is the hybrid fallback's alone, never a connector's answer.
ENDINGS: frozenset[Status] = ALLOWED[Status.HANDED_OVER] & FINAL


class IllegalMoveError(ValueError):
    """A status change the table above does not allow."""


def move(current: Status, new: Status) -> Status:
    """Return `new` if the move is allowed, else raise IllegalMoveError."""
    if new not in ALLOWED[current]:
        raise IllegalMoveError(f"status {current.value} cannot become {new.value}")
    return new


def ending(new: Status) -> Status:
    """Return `new` if a handed-over message may end with it (ENDINGS), else raise
    IllegalMoveError: storage applies it later as 1 -> `new` without asking again."""
    if new not in ENDINGS:
        raise IllegalMoveError(f"a handed-over message cannot end as {new.value}")
    return new


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """One message as the gateway decided it, before storage gives it a server_id."""

    phone: str
    sender: str
    text: str
    parts: int
    channel: str
    price: int  # kopecks, 0 for errors
    status: Status
    error: int
    send_datetime: datetime | None
    ttl: int | None  # minutes
    callback: str | None
    callback_method: str | None
    country: str
    operator: str
    test: bool
    sender_orig: str = ""
    #: When the message becomes -1/600 if it has not reached a final status by then.
    expires_at: datetime | None = None
    #: Connectors that may carry it, in order of preference (comma-separated names).
    route: str = ""
    #: HLRVIP to a destination with unreliable HLR answers: the connectors of its PING.
    ping_route: str = ""
    #: VIBERSMS: the SMS it becomes when its Viber attempt fails (domain/hybrid.py).
    fallback: Fallback | None = None
    #: API-2: the client's own `id` of the item as its JSON text, '' when it gave none.
    client_id: str = ""
    #: SMPP: the receipt a submit_sm's registered_delivery asked for (domain/deliver_sm.py
    #: `receipt_wanted`): 0 none, 1 any final status, 2 failures only, 3 delivery only.
    smpp_receipt: int = 0

    def __post_init__(self) -> None:
        # Storage inserts whatever status it is given; a draft born handed over or
        # delivered would skip the table altogether.
        if self.status not in INITIAL:
            raise IllegalMoveError(f"a message cannot be stored as {self.status}")


class Template(NamedTuple):
    """What one text decides whatever its recipients (gateway/drafting.py): a Draft but for
    each recipient's own fields. A tuple, not a frozen dataclass: an API-2 packet makes one
    per item, and a frozen dataclass's constructor (a checked attribute write per field)
    cost three times a tuple's."""

    sender: str
    text: str
    parts: int
    channel: str
    status: Status
    send_datetime: datetime | None
    ttl: int | None
    callback: str | None
    callback_method: str | None
    test: bool
    expires_at: datetime | None
    fallback: Fallback | None
    client_id: str
    smpp_receipt: int


def addressed(
    template: Template,
    *,
    phone: str,
    price: int,
    status: Status,
    error: int,
    country: str,
    operator: str,
    route: str,
    fallback: Fallback | None,
) -> Draft:
    """The draft of `template` to one recipient. Every field named, none left to its default:
    tests/unit/test_statuses.py fails when Draft gains a field this does not name."""
    return Draft(
        phone=phone,
        sender=template.sender,
        text=template.text,
        parts=template.parts,
        channel=template.channel,
        price=price,
        status=status,
        error=error,
        send_datetime=template.send_datetime,
        ttl=template.ttl,
        callback=template.callback,
        callback_method=template.callback_method,
        country=country,
        operator=operator,
        test=template.test,
        sender_orig="",
        expires_at=template.expires_at,
        route=route,
        ping_route="",
        fallback=fallback,
        client_id=template.client_id,
        smpp_receipt=template.smpp_receipt,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A stored message, as `check` and callbacks see it."""

    server_id: int
    packet_id: int
    account_id: int
    phone: str
    sender: str
    sender_orig: str
    text: str
    parts: int
    channel: str
    price: int
    status: Status
    error: int
    send_datetime: datetime | None
    ttl: int | None
    callback: str | None
    callback_method: str | None
    created: datetime
    modified: datetime
    country: str
    operator: str
    test: bool
    route: str = ""
    ping_route: str = ""
    #: Result fields of a number check (HLR, PING), as `checks.RESULT_FIELDS` names them.
    details: Mapping[str, str] = field(default_factory=dict)
    #: API-2: the client's own `id` of the item as its JSON text, '' when it gave none.
    client_id: str = ""
