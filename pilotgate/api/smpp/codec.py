"""The PDUs of PilotGate's SMSC side: binds read, submit_sm decoded by smpp34's Rust codec
(the same the link to operators uses), responses written. Pure functions of bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import smpp34

from pilotgate.domain import smpp_pdu as p

#: What bind_resp calls us; sc_interface_version (0x0210) says we speak SMPP 3.4.
SYSTEM_ID = "PilotGate"
_TLV_SC_INTERFACE_VERSION = b"\x02\x10\x00\x01\x34"


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRequest:
    system_id: str
    password: str
    system_type: str


class Submission(NamedTuple):
    """The fields of a submit_sm that PilotGate acts on, as on the wire. A named tuple, as
    `Pdu` is: one is made per submit_sm, and a frozen dataclass's __init__ costs several
    times a tuple's (4 µs of a submit_sm's 160)."""

    source: str
    destination: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    schedule: str
    validity: str
    short_message: bytes
    tlvs: tuple[tuple[int, bytes], ...]


def bind_request(body: bytes) -> BindRequest:
    """ValueError when the body is not a bind's (three C-strings, then four more octets)."""
    (system_id, password, system_type), rest = p.cstrings(body, 3)
    if len(rest) < 4:  # interface_version, addr_ton, addr_npi, address_range (a C-string)
        raise ValueError("bind body ends early")
    return BindRequest(system_id=system_id, password=password, system_type=system_type)


def bind_resp(command_id: int, sequence: int, status: int) -> bytes:
    body = p.cstring(SYSTEM_ID) + (_TLV_SC_INTERFACE_VERSION if status == 0 else b"")
    return p.pdu(command_id | p.RESP, sequence, body, status)


def submission(raw: bytes) -> Submission:
    """ValueError when `raw` is not a well-formed submit_sm."""
    try:
        decoded = smpp34.decode(raw)
    except smpp34.SmppError as error:
        raise ValueError(str(error)) from error
    if not isinstance(decoded, smpp34.SubmitSm):
        raise ValueError("not a submit_sm")
    return Submission(
        source=decoded.source_addr,
        destination=decoded.destination_addr,
        esm_class=decoded.esm_class,
        data_coding=decoded.data_coding,
        registered_delivery=decoded.registered_delivery,
        schedule=decoded.schedule_delivery_time,
        validity=decoded.validity_period,
        short_message=decoded.short_message,
        tlvs=tuple((tlv.tag, tlv.value) for tlv in decoded.tlvs),
    )


def submit_resp(sequence: int, status: int, message_id: str = "") -> bytes:
    """With a message_id when accepted; no body otherwise (SMPP 3.4 §4.4.2)."""
    body = p.cstring(message_id) if status == 0 else b""
    return p.pdu(p.SUBMIT_SM | p.RESP, sequence, body, status)


def generic_nack(sequence: int, status: int) -> bytes:
    return p.pdu(p.GENERIC_NACK, sequence, status=status)
