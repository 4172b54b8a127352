"""data_sm and submit_multi bodies as PilotGate's SMSC reads them (SMPP 3.4 §4.5, §4.7), and
submit_multi_resp as it answers. Written here (a small reader of octets, C-strings and TLVs)
because smpp34's codec, which reads our submit_sm, decodes neither command. Pure: bytes in,
values out; every malformed body is a ValueError, never an IndexError.

    data_sm:      service_type, source (ton, npi, addr), destination (ton, npi, addr),
                  esm_class, registered_delivery, data_coding, TLVs (message_payload)
    submit_multi: service_type, source (ton, npi, addr), number_of_dests, that many
                  dest_address (flag 1: ton, npi, addr; flag 2: a distribution list name),
                  then submit_sm's fields from esm_class on, short_message, TLVs
"""

from __future__ import annotations

from dataclasses import dataclass

from . import smpp_pdu as p

#: qos_time_to_live (data_sm's validity, in seconds).
TAG_QOS_TIME_TO_LIVE = 0x0017
SME_ADDRESS, DISTRIBUTION_LIST = 1, 2


@dataclass(frozen=True, slots=True)
class Destination:
    """One dest_address of a submit_multi: an SME address, or a distribution list's name
    (`listed`), which PilotGate does not keep."""

    ton: int
    npi: int
    address: str
    listed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    """The fields of a data_sm or submit_multi that the submit rules read, as on the wire
    (a data_sm has no short_message, schedule or validity_period of its own)."""

    source: str
    destinations: tuple[Destination, ...]
    esm_class: int
    registered_delivery: int
    data_coding: int
    schedule: str = ""
    validity: str = ""
    short_message: bytes = b""
    tlvs: tuple[tuple[int, bytes], ...] = ()


class _BodyReader:
    def __init__(self, body: bytes) -> None:
        self._body, self._at = body, 0

    def octet(self) -> int:
        if self._at >= len(self._body):
            raise ValueError("body ends early")
        self._at += 1
        return self._body[self._at - 1]

    def cstring(self) -> str:
        (value,), _ = p.cstrings(self._body[self._at :], 1)
        self._at = self._body.index(b"\x00", self._at) + 1
        return value

    def octets(self, count: int) -> bytes:
        if self._at + count > len(self._body):
            raise ValueError("body ends early")
        self._at += count
        return self._body[self._at - count : self._at]

    def tlvs(self) -> tuple[tuple[int, bytes], ...]:
        found = []
        while self._at < len(self._body):
            head = self.octets(4)
            tag, length = int.from_bytes(head[:2], "big"), int.from_bytes(head[2:], "big")
            found.append((tag, self.octets(length)))
        return tuple(found)


def data_sm(body: bytes) -> Body:
    """ValueError when `body` is not a data_sm's."""
    read = _BodyReader(body)
    read.cstring()  # service_type
    read.octets(2)
    source = read.cstring()
    ton, npi = read.octet(), read.octet()
    destination = Destination(ton, npi, read.cstring())
    esm_class, registered, coding = read.octet(), read.octet(), read.octet()
    tlvs = read.tlvs()
    ttl = dict(tlvs).get(TAG_QOS_TIME_TO_LIVE)
    return Body(
        source=source,
        destinations=(destination,),
        esm_class=esm_class,
        registered_delivery=registered,
        data_coding=coding,
        validity=relative_time(int.from_bytes(ttl, "big")) if ttl else "",
        tlvs=tlvs,
    )


def submit_multi(body: bytes) -> Body:
    """ValueError when `body` is not a submit_multi's (a dest_flag other than 1 or 2
    included: nothing after it can be found)."""
    read = _BodyReader(body)
    read.cstring()  # service_type
    read.octets(2)
    source = read.cstring()
    destinations = []
    for _ in range(read.octet()):
        flag = read.octet()
        if flag == SME_ADDRESS:
            ton, npi = read.octet(), read.octet()
            destinations.append(Destination(ton, npi, read.cstring()))
        elif flag == DISTRIBUTION_LIST:
            destinations.append(Destination(0, 0, read.cstring(), listed=True))
        else:
            raise ValueError(f"dest_flag {flag}")
    esm_class = read.octet()
    read.octets(2)  # protocol_id, priority_flag
    schedule, validity = read.cstring(), read.cstring()
    registered = read.octet()
    read.octet()  # replace_if_present_flag
    coding = read.octet()
    read.octet()  # sm_default_msg_id
    short_message = read.octets(read.octet())
    return Body(
        source=source,
        destinations=tuple(destinations),
        esm_class=esm_class,
        registered_delivery=registered,
        data_coding=coding,
        schedule=schedule,
        validity=validity,
        short_message=short_message,
        tlvs=read.tlvs(),
    )


def relative_time(seconds: int) -> str:
    """`seconds` as a relative SMPP time ("YYMMDDhhmmss000R"); days past 99 are capped (the
    send rules refuse anything past 1440 minutes anyway)."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"0000{min(days, 99):02d}{hours:02d}{minutes:02d}{secs:02d}000R"


def multi_resp_body(message_id: str, refused: list[tuple[Destination, int]]) -> bytes:
    """submit_multi_resp: message_id, no_unsuccess, then each refused destination's ton,
    npi, address and its error_status_code (a command_status, 4 octets)."""
    out = p.cstring(message_id) + bytes((len(refused),))
    for where, status in refused:
        out += bytes((where.ton, where.npi)) + p.cstring(where.address) + status.to_bytes(4, "big")
    return out
