"""data_sm and submit_multi go through the same rules as submit_sm: what a customer's system
sees in data_sm_resp and submit_multi_resp, and what its account then holds. data_sm is
encoded by smpplib (whose data_sm_resp class is broken, so answers are read raw here);
submit_multi, which smpplib does not have, is written byte by byte here."""

from __future__ import annotations

import asyncio
from typing import Any

import smpplib.client
import smpplib.smpp

from pilotgate.domain import smpp_pdu as p, smpp_rules as rules

from .conftest import Smsc
from .test_protocol import _bind, _raw, _read_pdu

TELE2 = "79087964781"  # 3.95 a part in the shipped default tariff


class RawEsme:
    """A bound connection that writes PDUs as given and reads answers as they come."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def bound(cls, port: int) -> RawEsme:
        reader, writer = await _raw(port)
        writer.write(_bind(1))
        assert (await _read_pdu(reader)).status == rules.ESME_ROK
        return cls(reader, writer)

    async def ask(self, pdu: bytes) -> p.Pdu:
        self.writer.write(pdu)
        return await _read_pdu(self.reader)

    def close(self) -> None:
        self.writer.close()


def _data_sm(**fields: Any) -> bytes:
    """A data_sm as smpplib encodes it."""
    # Never connected: only its sequence numbers are used.
    client = smpplib.client.Client("127.0.0.1", 0, allow_unknown_opt_params=True)
    defaults: dict[str, Any] = {"source_addr": "INFORM", "destination_addr": TELE2}
    defaults |= {"service_type": ""}
    defaults |= {"source_addr_ton": 5, "source_addr_npi": 0, "dest_addr_ton": 1}
    defaults |= {"dest_addr_npi": 1, "esm_class": 0, "registered_delivery": 0}
    encoded: bytes = smpplib.smpp.make_pdu(
        "data_sm", client=client, **(defaults | fields)
    ).generate()
    return encoded


def _submit_multi(sequence: int, destinations: list[tuple[int, str]], text: bytes) -> bytes:
    """submit_multi per SMPP 3.4 §4.5.1: (dest_flag, address) pairs, flag 1 an SME address
    (TON 1, NPI 1), flag 2 a distribution list's name."""
    body = b"\x00" + b"\x05\x00" + b"INFORM\x00" + bytes((len(destinations),))
    for flag, address in destinations:
        body += bytes((flag,)) + (b"\x01\x01" if flag == 1 else b"") + address.encode() + b"\x00"
    # esm_class, protocol_id, priority, schedule "", validity "", registered_delivery,
    # replace_if_present, data_coding, sm_default_msg_id, sm_length, short_message.
    body += b"\x00\x00\x00" + b"\x00\x00" + b"\x00\x00\x00\x00" + bytes((len(text),)) + text
    return p.pdu(p.SUBMIT_MULTI, sequence, body)


def _unsuccess(body: bytes) -> tuple[str, list[tuple[str, int]]]:
    """message_id and the (address, error_status_code) of each unsuccess_sme."""
    (message_id,), rest = p.cstrings(body, 1)
    count, rest = rest[0], rest[1:]
    refused = []
    for _ in range(count):
        (address,), rest = p.cstrings(rest[2:], 1)
        refused.append((address, int.from_bytes(rest[:4], "big")))
        rest = rest[4:]
    assert rest == b""
    return message_id, refused


async def _messages(smsc: Smsc):
    return await smsc.gateway.store.find_messages(smsc.account_id)


async def _balance(smsc: Smsc) -> int:
    account = await smsc.gateway.store.account(smsc.account_id)
    assert account is not None
    return account.balance


async def test_data_sm_with_a_payload_is_one_priced_message(smsc):
    esme = await RawEsme.bound(smsc.port)
    text = "Привет из data_sm, " * 5  # UCS-2, 95 characters: two parts
    answer = await esme.ask(
        _data_sm(data_coding=8, message_payload=text.encode("utf-16-be"), qos_time_to_live=600)
    )
    assert (answer.command_id, answer.status) == (p.DATA_SM | p.RESP, rules.ESME_ROK)
    (message_id,), _ = p.cstrings(answer.body, 1)
    [message] = await _messages(smsc)
    assert (str(message.server_id), message.text, message.parts, message.price) == (
        message_id,
        text,
        2,
        790,
    )
    assert message.ttl == 10  # qos_time_to_live 600 s
    esme.close()


async def test_data_sm_refusals_are_a_submit_sms(smsc):
    esme = await RawEsme.bound(smsc.port)
    bad_phone = await esme.ask(_data_sm(destination_addr="12", message_payload=b"Hi"))
    empty = await esme.ask(_data_sm(message_payload=b""))
    assert [(a.command_id, a.status, a.body) for a in (bad_phone, empty)] == [
        (p.DATA_SM | p.RESP, rules.ESME_RINVDSTADR, b""),
        (p.DATA_SM | p.RESP, rules.ESME_RINVMSGLEN, b""),
    ]
    broken = await esme.ask(p.pdu(p.DATA_SM, 9, b"\x00\x05"))
    assert (broken.command_id, broken.status) == (p.GENERIC_NACK, rules.ESME_RINVCMDLEN)
    assert await _messages(smsc) == []
    esme.close()


async def test_submit_multi_sends_to_each_and_lists_the_refused(smsc):
    esme = await RawEsme.bound(smsc.port)
    others = [(1, "79087964782"), (1, "12"), (2, "friends"), (1, "79087964783")]
    answer = await esme.ask(_submit_multi(2, [(1, TELE2), *others], b"To all"))
    assert (answer.command_id, answer.status) == (p.SUBMIT_MULTI | p.RESP, rules.ESME_ROK)
    message_id, refused = _unsuccess(answer.body)
    assert refused == [("12", rules.ESME_RINVDSTADR), ("friends", rules.ESME_RINVDLNAME)]
    sent = {m.phone: m for m in await _messages(smsc)}
    assert set(sent) == {TELE2, "79087964782", "79087964783"}
    assert str(sent[TELE2].server_id) == message_id  # the first accepted destination's id
    assert {m.text for m in sent.values()} == {"To all"}
    assert await _balance(smsc) == 100_000 - 3 * 395
    esme.close()


async def test_submit_multi_refused_everywhere_or_to_no_one(smsc):
    esme = await RawEsme.bound(smsc.port)
    nowhere = await esme.ask(_submit_multi(2, [(1, "12"), (2, "friends")], b"Hi"))
    no_one = await esme.ask(_submit_multi(3, [], b"Hi"))
    assert [(a.command_id, a.status, a.body) for a in (nowhere, no_one)] == [
        (p.SUBMIT_MULTI | p.RESP, rules.ESME_RINVDSTADR, b""),
        (p.SUBMIT_MULTI | p.RESP, rules.ESME_RINVNUMDESTS, b""),
    ]
    flag = await esme.ask(_submit_multi(4, [(7, "79087964781")], b"Hi"))
    assert (flag.command_id, flag.status) == (p.GENERIC_NACK, rules.ESME_RINVCMDLEN)
    assert await _messages(smsc) == []
    esme.close()
