"""Bytes ⇄ PDUs for the link, sans-IO (the framing is domain/smpp_pdu.py, shared with the
SMPP server). submit_sm is encoded and deliver_sm decoded by
smpp34's Rust codec (TLVs pass through byte for byte); the small fixed PDUs (bind, unbind,
enquire_link, responses, generic_nack) are a header and a C-string or two, written here."""

from __future__ import annotations

from dataclasses import dataclass

import smpp34

from pilotgate.domain import sms_encoding as enc
from pilotgate.domain.messages import Message
from pilotgate.domain.smpp_pdu import (
    BIND_RECEIVER,
    BIND_TRANSCEIVER,
    BIND_TRANSMITTER,
    DELIVER_SM,
    ENQUIRE_LINK,
    GENERIC_NACK,
    HEADER,
    MAX_PDU,
    RESP,
    SUBMIT_SM,
    UNBIND,
    FramingError,
    Pdu,
    PduFramer,
    cstring,
    pdu,
)

from ..schemas.smpp import SmppSettings
from . import policy

PING_PROTOCOL_ID = 0x40  #: a silent "type 0" SMS (TS 23.040 §9.2.3.9)


def bind(command_id: int, sequence: int, system_id: str, password: str, system_type: str) -> bytes:
    body = cstring(system_id) + cstring(password) + cstring(system_type)
    return pdu(command_id, sequence, body + bytes([0x34, 0, 0]) + b"\x00")


def message_id(body: bytes) -> str:
    """The C-string message_id that opens a submit_sm_resp body ("" when absent)."""
    return body.split(b"\x00", 1)[0].decode("latin-1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit:
    """The fields of one submit_sm we set; everything else is the SMPP default."""

    source: str
    source_ton: int
    source_npi: int
    destination: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    protocol_id: int
    data_coding: int
    validity: str
    short_message: bytes
    tlvs: tuple[tuple[int, bytes], ...]


def submits(message: Message, settings: SmppSettings, reference: int) -> list[Submit]:
    """The submit_sm of each part of `message`, in order (a PING is one empty part)."""
    ping = message.channel == "ping"
    parts = enc.encode(
        "" if ping else message.text,
        concat=settings.concat,
        reference=reference,
        packed=settings.gsm_packed,
    )
    numeric = message.sender.isdigit()
    minutes = message.ttl or settings.validity
    return [
        Submit(
            source=message.sender,
            source_ton=settings.source_ton_numeric if numeric else settings.source_ton_alpha,
            source_npi=settings.source_npi_numeric if numeric else settings.source_npi_alpha,
            destination=message.phone,
            dest_ton=settings.dest_ton,
            dest_npi=settings.dest_npi,
            esm_class=part.esm_class,
            protocol_id=PING_PROTOCOL_ID if ping else 0,
            data_coding=part.data_coding,
            validity=policy.relative_validity(minutes) if minutes else "",
            short_message=part.short_message,
            tlvs=part.tlvs,
        )
        for part in parts
    ]


def submit_sm(sequence: int, submit: Submit) -> bytes:
    return smpp34.SubmitSm(
        submit.source,
        submit.destination,
        submit.short_message,
        source_addr_ton=submit.source_ton,
        source_addr_npi=submit.source_npi,
        dest_addr_ton=submit.dest_ton,
        dest_addr_npi=submit.dest_npi,
        esm_class=submit.esm_class,
        protocol_id=submit.protocol_id,
        validity_period=submit.validity,
        registered_delivery=1,
        data_coding=submit.data_coding,
        tlvs=[smpp34.Tlv(tag, value) for tag, value in submit.tlvs],
        sequence_number=sequence,
    ).encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver:
    source: str
    destination: str
    esm_class: int
    data_coding: int
    short_message: bytes
    tlvs: tuple[tuple[int, bytes], ...]


def deliver_sm(raw: bytes) -> Deliver:
    """Decode a deliver_sm; raises ValueError when it is malformed."""
    try:
        decoded = smpp34.decode(raw)
    except smpp34.SmppError as error:
        raise ValueError(str(error)) from error
    if not isinstance(decoded, smpp34.DeliverSm):
        raise ValueError("not a deliver_sm")
    return Deliver(
        source=decoded.source_addr,
        destination=decoded.destination_addr,
        esm_class=decoded.esm_class,
        data_coding=decoded.data_coding,
        short_message=decoded.short_message,
        tlvs=tuple((tlv.tag, tlv.value) for tlv in decoded.tlvs),
    )


__all__ = [
    "BIND_RECEIVER",
    "BIND_TRANSCEIVER",
    "BIND_TRANSMITTER",
    "DELIVER_SM",
    "ENQUIRE_LINK",
    "GENERIC_NACK",
    "HEADER",
    "MAX_PDU",
    "RESP",
    "SUBMIT_SM",
    "UNBIND",
    "Deliver",
    "FramingError",
    "Pdu",
    "PduFramer",
    "Submit",
    "bind",
    "cstring",
    "deliver_sm",
    "message_id",
    "pdu",
    "submit_sm",
    "submits",
]
