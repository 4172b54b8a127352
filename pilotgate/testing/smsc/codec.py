"""The simulator's own SMPP 3.4 codec, stdlib only. It is deliberately independent of the
connector's (smpp34's Rust codec): the integration tests then check two implementations
against each other, byte for byte, instead of one against itself."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">IIII")
RESP = 0x80000000
GENERIC_NACK = 0x80000000
BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, DELIVER_SM = 0x01, 0x02, 0x04, 0x05
UNBIND, BIND_TRANSCEIVER, ENQUIRE_LINK = 0x06, 0x09, 0x15


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm:
    """One submit_sm as the simulator received it, every field as on the wire."""

    sequence: int
    service_type: str
    source_ton: int
    source_npi: int
    source: str
    dest_ton: int
    dest_npi: int
    destination: str
    esm_class: int
    protocol_id: int
    priority: int
    schedule: str
    validity: str
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)
    message_id: str = ""  #: what the simulator answered ("" when it refused or stayed silent)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise ValueError("PDU body ends early")
        self.at += 1
        return self.data[self.at - 1]

    def cstring(self) -> str:
        end = self.data.index(b"\x00", self.at)
        value, self.at = self.data[self.at : end].decode("latin-1"), end + 1
        return value

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ValueError("PDU body ends early")
        value, self.at = self.data[self.at : self.at + n], self.at + n
        return value


def parse_submit(sequence: int, body: bytes) -> SubmitSm:
    """Decode a submit_sm body; ValueError when it is malformed."""
    r = _Reader(body)
    head = dict(service_type=r.cstring(), source_ton=r.byte(), source_npi=r.byte())
    head |= dict(source=r.cstring(), dest_ton=r.byte(), dest_npi=r.byte())
    head |= dict(destination=r.cstring(), esm_class=r.byte(), protocol_id=r.byte())
    head |= dict(priority=r.byte(), schedule=r.cstring(), validity=r.cstring())
    registered, _replace, coding, _default_id = r.byte(), r.byte(), r.byte(), r.byte()
    short_message = r.take(r.byte())
    tlvs = {}
    while r.at < len(body):
        tag, length = struct.unpack(">HH", r.take(4))
        tlvs[tag] = r.take(length)
    return SubmitSm(
        sequence=sequence,
        registered_delivery=registered,
        data_coding=coding,
        short_message=short_message,
        tlvs=tlvs,
        **head,  # type: ignore[arg-type]
    )


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def cstring(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def deliver_sm(
    sequence: int,
    *,
    source: str,
    destination: str,
    short_message: bytes,
    esm_class: int = 0,
    data_coding: int = 0,
    tlvs: dict[int, bytes] | None = None,
) -> bytes:
    body = cstring("") + bytes([1, 1]) + cstring(source) + bytes([1, 1]) + cstring(destination)
    body += bytes([esm_class, 0, 0]) + cstring("") + cstring("")
    body += bytes([0, 0, data_coding, 0, len(short_message)]) + short_message
    for tag, value in (tlvs or {}).items():
        body += struct.pack(">HH", tag, len(value)) + value
    return pdu(DELIVER_SM, sequence, body)
