"""query_sm, cancel_sm and replace_sm as PilotGate's SMSC reads and answers them (SMPP 3.4
§4.8-§4.10;
docs/smpp.md "PilotGate as an SMSC"): the bodies read, and our message status as the
protocol's `message_state`. Pure: bytes and values in, values out."""

from __future__ import annotations

from dataclasses import dataclass

from . import codes, smpp_pdu as p
from .messages import Status

# message_state values (SMPP 3.4 §5.2.28).
ENROUTE, DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, ACCEPTED, UNKNOWN, REJECTED = range(1, 9)

#: A final -1 by its error; any other -1 is UNDELIVERABLE.
_UNDELIVERED_STATE = {600: EXPIRED, 603: REJECTED, codes.HANDOVER_UNKNOWN: UNKNOWN}


def message_state(status: Status, error: int) -> int:
    """The message_state of a message in `status` with `error`. SMPP 3.4 has no "scheduled"
    (5.0's SCHEDULED is 0, which 3.4 clients do not know): scheduled, queued and handed-over
    messages are all ENROUTE, on their way. A cancelled message is DELETED."""
    if status is Status.DELIVERED:
        return DELIVERED
    if status is Status.UNDELIVERED:
        return _UNDELIVERED_STATE.get(error, UNDELIVERABLE)
    if status is Status.ERROR:
        return DELETED if error == codes.CANCELLED else REJECTED
    return ENROUTE


def server_id(message_id: str) -> int | None:
    """Our server_id in a query_sm's or cancel_sm's message_id (the decimal string our
    submit_sm_resp gave), or None when it cannot be one."""
    if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 18:
        return None
    return int(message_id)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """The message a query_sm or cancel_sm names: its message_id and source_addr (a
    cancel_sm's destination_addr too; "" in a query_sm)."""

    message_id: str
    source: str
    destination: str = ""


def query_request(body: bytes) -> MessageRef:
    """ValueError when `body` is not a query_sm's: message_id, source_addr_ton and _npi,
    source_addr."""
    (message_id,), rest = p.cstrings(body, 1)
    (source,), _ = p.cstrings(_skip(rest, 2), 1)
    return MessageRef(message_id, source)


def cancel_request(body: bytes) -> MessageRef:
    """ValueError when `body` is not a cancel_sm's: service_type, message_id, the source
    (ton, npi, addr), the destination (ton, npi, addr)."""
    (_service, message_id), rest = p.cstrings(body, 2)
    (source,), rest = p.cstrings(_skip(rest, 2), 1)
    (destination,), _ = p.cstrings(_skip(rest, 2), 1)
    return MessageRef(message_id, source, destination)


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """A replace_sm's fields: the message (message_id, source_addr) and what replaces its
    text (short_message, raw octets), schedule and validity ("" keeps them) and receipt
    wish."""

    message_id: str
    source: str
    schedule: str
    validity: str
    registered_delivery: int
    short_message: bytes


def replace_request(body: bytes) -> ReplaceRequest:
    """ValueError when `body` is not a replace_sm's: message_id, source (ton, npi, addr),
    schedule_delivery_time, validity_period, registered_delivery, sm_default_msg_id,
    sm_length, short_message (SMPP 3.4 §4.10.1)."""
    (message_id,), rest = p.cstrings(body, 1)
    (source, schedule, validity), rest = p.cstrings(_skip(rest, 2), 3)
    if len(rest) < 3 or len(rest) - 3 < rest[2]:
        raise ValueError("body ends early")
    text = rest[3 : 3 + rest[2]]
    return ReplaceRequest(message_id, source, schedule, validity, rest[0], text)


def query_resp_body(message_id: str, final_date: str, state: int, error_code: int = 0) -> bytes:
    """query_sm_resp: message_id, final_date ("" while not final), message_state, and the
    network error_code (0: we do not report networks' codes here)."""
    return p.cstring(message_id) + p.cstring(final_date) + bytes((state, error_code))


def _skip(body: bytes, octets: int) -> bytes:
    if len(body) < octets:
        raise ValueError("body ends early")
    return body[octets:]
