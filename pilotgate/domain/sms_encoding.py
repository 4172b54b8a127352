"""Text ⇄ SMPP short_message bytes, both ways (SMPP 3.4 §5.2.19, 3GPP TS 23.040 §9.2.3.24).

Outgoing: `encode(text, ...)` picks data_coding 0 (GSM 03.38, packed or one septet per octet)
or 8 (UCS-2 as UTF-16-BE, so an emoji travels as its surrogate pair) from the text, cuts it
where `domain.text.segment` cuts it (so the parts we send are the parts we charged), and
marks the parts as one message by UDH (8- or 16-bit reference), SAR TLVs or one
message_payload. Incoming: `parse_mo` reads one deliver_sm body into a `Fragment`, and
`Reassembler` joins fragments into texts. Nothing here raises on what a peer sent: bytes that
do not decode become U+FFFD and the fragment says it was `lossy`, for the caller to log.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import gsm7, text as sms_text

GSM, UCS2, LATIN1 = 0x00, 0x08, 0x03
UDHI = 0x40  #: esm_class bit: short_message starts with a user data header
TAG_SAR_REF, TAG_SAR_TOTAL, TAG_SAR_SEQ = 0x020C, 0x020E, 0x020F
TAG_PAYLOAD = 0x0424

Tlvs = tuple[tuple[int, bytes], ...]


class Concat(enum.StrEnum):
    UDH = "udh"  #: 8-bit reference IE 0x00
    UDH16 = "udh16"  #: 16-bit reference IE 0x08
    SAR = "sar"  #: sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs
    PAYLOAD = "payload"  #: the whole text in one message_payload TLV


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One submit_sm's worth of a message."""

    data_coding: int
    esm_class: int
    short_message: bytes
    tlvs: Tlvs = ()


def data_coding_of(text: str) -> int:
    return GSM if sms_text.encoding_of(text) is sms_text.Encoding.GSM7 else UCS2


def _encode_body(text: str, coding: int, packed: bool, fill_bits: int = 0) -> bytes:
    if coding == UCS2:
        return text.encode("utf-16-be")
    septets = gsm7.gsm_encode(text)
    return gsm7.pack_septets(septets, fill_bits) if packed else septets


def encode(text: str, *, concat: Concat, reference: int, packed: bool = False) -> list[Part]:
    """The parts of `text`, in order. `reference` is used only when there are several
    (allocate it with `References`); it must fit the mode (8 bits for UDH and SAR in a
    one-byte IE, 16 bits for UDH16 and SAR)."""
    coding = data_coding_of(text)
    pieces = sms_text.segment(text).parts or ("",)
    if len(pieces) == 1:
        return [
            Part(data_coding=coding, esm_class=0, short_message=_encode_body(text, coding, packed))
        ]
    if concat is Concat.PAYLOAD:
        # message_payload is never packed: SMSCs expect one septet per octet there.
        body = _encode_body(text, coding, packed=False)
        return [
            Part(data_coding=coding, esm_class=0, short_message=b"", tlvs=((TAG_PAYLOAD, body),))
        ]
    total, parts = len(pieces), []
    for seq, piece in enumerate(pieces, start=1):
        if concat is Concat.SAR:
            tlvs: Tlvs = (
                (TAG_SAR_REF, (reference & 0xFFFF).to_bytes(2, "big")),
                (TAG_SAR_TOTAL, bytes([total])),
                (TAG_SAR_SEQ, bytes([seq])),
            )
            body = _encode_body(piece, coding, packed)
            parts.append(Part(data_coding=coding, esm_class=0, short_message=body, tlvs=tlvs))
            continue
        if concat is Concat.UDH16:
            udh = (
                bytes([6, 0x08, 4]) + (reference & 0xFFFF).to_bytes(2, "big") + bytes([total, seq])
            )
        else:
            udh = bytes([5, 0x00, 3, reference & 0xFF, total, seq])
        # Packed text after a header starts on the next septet boundary (TS 23.040).
        fill = (7 - (len(udh) * 8) % 7) % 7 if packed else 0
        body = udh + _encode_body(piece, coding, packed, fill)
        parts.append(Part(data_coding=coding, esm_class=UDHI, short_message=body))
    return parts


@dataclass(slots=True)
class References:
    """Concatenation references, never handed out twice to one phone while in flight.

    `modulus` is 256 for 8-bit references and 65536 for 16-bit ones. A phone that already
    has every reference in flight gets ValueError (it would take that many long messages
    to one phone at once, which the window makes impossible)."""

    modulus: int = 256
    _next: int = 0
    _busy: dict[str, set[int]] = field(default_factory=dict)

    def allocate(self, phone: str) -> int:
        busy = self._busy.setdefault(phone, set())
        for _ in range(self.modulus):
            ref, self._next = self._next, (self._next + 1) % self.modulus
            if ref not in busy:
                busy.add(ref)
                return ref
        raise ValueError(f"every concatenation reference to {phone} is in flight")

    def release(self, phone: str, ref: int) -> None:
        busy = self._busy.get(phone)
        if busy is not None:
            busy.discard(ref)
            if not busy:
                del self._busy[phone]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """One deliver_sm body, decoded. `reference` is None for a whole message."""

    text: str
    reference: int | None = None
    total: int = 1
    seq: int = 1
    lossy: bool = False  #: something did not decode or the header was invalid


def decode_body(data: bytes, coding: int, *, packed: bool = False, fill: int = 0) -> Fragment:
    """Decode message bytes; never raises (U+FFFD stands for what does not decode)."""
    text, lossy = _decoded(data, coding, packed, fill)
    return Fragment(text=text, lossy=lossy)


def _decoded(data: bytes, coding: int, packed: bool, fill: int) -> tuple[str, bool]:
    """decode_body's (text, lossy) as a tuple: parse_mo builds its one Fragment from it (a
    frozen dataclass costs microseconds to build, and every submit_sm's text comes here)."""
    if coding == UCS2:
        try:
            return data.decode("utf-16-be"), False
        except UnicodeDecodeError:
            return data.decode("utf-16-be", errors="replace"), True
    if coding in (GSM, 0x01):
        septets = gsm7.unpack_septets(data, fill) if packed else data
        return gsm7.gsm_decode(septets)
    # Latin-1 (3) and anything we do not know: one byte, one character, nothing lost.
    return data.decode("latin-1"), coding != LATIN1


def _udh(body: bytes) -> tuple[bytes, int | None, int, int, bool]:
    """(rest, reference, total, seq, valid) of a body that starts with a UDH."""
    if not body or 1 + body[0] > len(body):
        return body[1:], None, 1, 1, False
    header, rest = body[1 : 1 + body[0]], body[1 + body[0] :]
    ref, total, seq, i = None, 1, 1, 0
    while i + 2 <= len(header):
        iei, length = header[i], header[i + 1]
        value = header[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3 and len(value) == 3:
            ref, total, seq = value[0], value[1], value[2]
        elif iei == 0x08 and length == 4 and len(value) == 4:
            ref, total, seq = int.from_bytes(value[:2], "big"), value[2], value[3]
        i += 2 + length
    valid = i == len(header) and (ref is None or 1 <= seq <= total)
    return rest, (ref if valid else None), total if valid else 1, seq if valid else 1, valid


def parse_mo(
    short_message: bytes,
    data_coding: int,
    esm_class: int,
    tlvs: Iterable[tuple[int, bytes]],
    *,
    packed: bool = False,
) -> Fragment:
    """Read a non-receipt deliver_sm into a Fragment (UDH or SAR concatenation, payload)."""
    options = dict(tlvs)
    body = options.get(TAG_PAYLOAD, short_message)
    ref: int | None = None
    total = seq = 1
    valid = True
    fill = 0
    if esm_class & UDHI:
        header_len = 1 + body[0] if body else 1
        body, ref, total, seq, valid = _udh(body)
        fill = (7 - (header_len * 8) % 7) % 7
    elif TAG_SAR_REF in options:
        sar_total, sar_seq = options.get(TAG_SAR_TOTAL, b"\x01"), options.get(TAG_SAR_SEQ, b"\x01")
        ref = int.from_bytes(options[TAG_SAR_REF], "big")
        total, seq = sar_total[0] if sar_total else 1, sar_seq[0] if sar_seq else 1
        if not 1 <= seq <= total:
            ref, total, seq, valid = None, 1, 1, False
    text, lossy = _decoded(body, data_coding, packed and TAG_PAYLOAD not in options, fill)
    return Fragment(text=text, reference=ref, total=total, seq=seq, lossy=lossy or not valid)


@dataclass(slots=True)
class Reassembler:
    """Joins fragments of long MO messages, keyed by sender, recipient and reference.

    `add` returns the whole text once every part is in (a repeated part replaces itself),
    and again on every later part until `finish` forgets it: a caller that failed to store
    the text gets it back when the SMSC resends the part. `expire` gives up on messages
    older than `max_age` seconds and returns what they had, so a lost part costs a gap in
    the text rather than the whole message."""

    max_age: float = 300.0
    _pending: dict[tuple[str, str, int, int], tuple[float, dict[int, str]]] = field(
        default_factory=dict
    )

    def add(self, phone: str, number: str, fragment: Fragment, now: float) -> str | None:
        if fragment.reference is None or fragment.total <= 1:
            return fragment.text
        key = (phone, number, fragment.reference, fragment.total)
        parts = self._pending.setdefault(key, (now, {}))[1]
        parts[fragment.seq] = fragment.text
        if len(parts) < fragment.total:
            return None
        return "".join(parts[i] for i in sorted(parts))

    def finish(self, phone: str, number: str, fragment: Fragment) -> None:
        """Forget the message `fragment` completed (its text is stored)."""
        if fragment.reference is not None:
            self._pending.pop((phone, number, fragment.reference, fragment.total), None)

    def expire(self, now: float) -> list[tuple[str, str, str]]:
        """(phone, number, partial text) of every message waited on for too long."""
        out = []
        for key, (started, parts) in list(self._pending.items()):
            if now - started >= self.max_age:
                del self._pending[key]
                out.append((key[0], key[1], "".join(parts[i] for i in sorted(parts))))
        return out
