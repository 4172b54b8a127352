"""SMPP 3.4 framing, sans-IO, for both sides of the protocol: the link to an operator's SMSC
(connectors/smpp) and PilotGate's own SMSC for customers (api/smpp). Bytes in, PDUs out;
the small fixed PDUs written here (a header and a C-string or two); submit_sm and
deliver_sm bodies are smpp34's Rust codec's job."""

from __future__ import annotations

import struct
from typing import NamedTuple

BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER = 0x01, 0x02, 0x09
QUERY_SM, SUBMIT_SM, DELIVER_SM, UNBIND, REPLACE_SM, CANCEL_SM = 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
OUTBIND, ENQUIRE_LINK, SUBMIT_MULTI, ALERT_NOTIFICATION, DATA_SM = 0x0B, 0x15, 0x21, 0x102, 0x103
GENERIC_NACK, RESP = 0x80000000, 0x80000000
BINDS = (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER)
#: What an ESME may send only once bound as a transmitter or transceiver.
SENDS = (SUBMIT_SM, DATA_SM, SUBMIT_MULTI, QUERY_SM, CANCEL_SM, REPLACE_SM)
HEADER = struct.Struct(">IIII")
#: Bigger than any PDU an SMSC sends us (a deliver_sm with a 64 KB payload); a length above
#: it is a broken stream, not a big message, and is never buffered.
MAX_PDU = 70_000


class FramingError(ValueError):
    """The byte stream cannot be cut into PDUs any more: the connection must go."""


class Pdu(NamedTuple):
    """One PDU as framed. A named tuple, not a frozen dataclass: one is made per PDU on
    both sides of every SMPP connection, and a frozen dataclass's __init__ costs several
    times a tuple's (about 1% of the serving process in the SMPP bench)."""

    command_id: int
    status: int
    sequence: int
    body: bytes
    raw: bytes


class PduFramer:
    """Cuts a byte stream into PDUs, whatever the TCP reads look like. A command_length
    under 16 or over `max_length` raises FramingError: nothing past it can be trusted."""

    def __init__(self, max_length: int = MAX_PDU) -> None:
        self._buffer = bytearray()
        self._max = max_length

    def feed(self, data: bytes) -> list[Pdu]:
        self._buffer += data
        out = []
        while len(self._buffer) >= 16:
            length, command_id, status, sequence = HEADER.unpack_from(self._buffer)
            if not 16 <= length <= self._max:
                raise FramingError(f"command_length {length}")
            if len(self._buffer) < length:
                break
            raw = bytes(self._buffer[:length])
            del self._buffer[:length]
            out.append(Pdu(command_id, status, sequence, raw[16:], raw))
        return out

    @property
    def pending(self) -> int:
        """Bytes received that are not a whole PDU yet."""
        return len(self._buffer)


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def cstring(value: str) -> bytes:
    return value.encode("latin-1", errors="replace") + b"\x00"


def cstrings(body: bytes, count: int) -> tuple[list[str], bytes]:
    """The first `count` C-strings of `body` (Latin-1) and what follows them; ValueError
    when one has no terminating NUL."""
    values = []
    for _ in range(count):
        end = body.find(b"\x00")
        if end < 0:
            raise ValueError("a C-Octet String without its NUL")
        values.append(body[:end].decode("latin-1"))
        body = body[end + 1 :]
    return values, body
