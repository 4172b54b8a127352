"""replace_sm (SMPP 3.4 §4.10): an ESME replaces a scheduled message's text, schedule,
validity and receipt wish; another number of parts is charged or refunded the difference at
the rate the message was accepted at. Written byte by byte (smpplib has no replace_sm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pilotgate.domain import smpp_pdu as p, smpp_rules as rules, smpp_time
from pilotgate.domain.messages import Status

from .conftest import Smsc
from .test_multi import RawEsme

TELE2 = "79087964781"  # 3.95 a part in the shipped default tariff
IN_AN_HOUR = "000000010000000R"


def _submit_sm(sequence: int, text: bytes, data_coding: int = 0) -> bytes:
    body = b"\x00" + b"\x05\x00" + p.cstring("INFORM") + b"\x01\x01" + p.cstring(TELE2)
    body += b"\x00\x00\x00" + p.cstring(IN_AN_HOUR) + p.cstring("")
    body += bytes((0, 0, data_coding, 0, len(text))) + text
    return p.pdu(p.SUBMIT_SM, sequence, body)


def _replace_sm(
    sequence: int,
    message_id: str,
    text: bytes,
    *,
    source: str = "INFORM",
    schedule: str = "",
    validity: str = "",
    receipt: int = 0,
) -> bytes:
    body = p.cstring(message_id) + b"\x05\x00" + p.cstring(source)
    body += p.cstring(schedule) + p.cstring(validity)
    body += bytes((receipt, 0, len(text))) + text
    return p.pdu(p.REPLACE_SM, sequence, body)


async def _scheduled(esme: RawEsme, text: bytes, data_coding: int = 0) -> str:
    answer = await esme.ask(_submit_sm(2, text, data_coding))
    assert answer.status == rules.ESME_ROK
    (message_id,), _ = p.cstrings(answer.body, 1)
    return message_id


async def _message(smsc: Smsc, message_id: str):
    [message] = await smsc.gateway.store.messages_by_id(smsc.account_id, [int(message_id)])
    return message


async def _balance(smsc: Smsc) -> int:
    account = await smsc.gateway.store.account(smsc.account_id)
    assert account is not None
    return account.balance


async def test_a_longer_text_costs_its_parts_a_shorter_one_is_refunded(smsc):
    esme = await RawEsme.bound(smsc.port)
    message_id = await _scheduled(esme, b"Later")
    assert await _balance(smsc) == 100_000 - 395
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    longer = b"Two parts now. " * 14  # 210 GSM-7 characters: two parts
    answer = await esme.ask(
        _replace_sm(
            3,
            message_id,
            longer,
            schedule=smpp_time.format_absolute(later),
            validity=smpp_time.format_absolute(later + timedelta(minutes=30)),
            receipt=1,
        )
    )
    assert (answer.command_id, answer.status) == (p.REPLACE_SM | p.RESP, rules.ESME_ROK)
    message = await _message(smsc, message_id)
    assert (message.text, message.parts, message.price) == (longer.decode(), 2, 790)
    assert (message.status, message.send_datetime, message.ttl) == (Status.SCHEDULED, later, 30)
    assert await _balance(smsc) == 100_000 - 790
    # Empty times keep the message's own; one part again: 3.95 back.
    answer = await esme.ask(_replace_sm(4, message_id, b"Short again"))
    assert answer.status == rules.ESME_ROK
    message = await _message(smsc, message_id)
    assert (message.text, message.price, message.send_datetime, message.ttl) == (
        "Short again",
        395,
        later,
        30,
    )
    assert await _balance(smsc) == 100_000 - 395
    esme.close()


async def test_a_ucs2_message_is_replaced_in_ucs2(smsc):
    esme = await RawEsme.bound(smsc.port)
    message_id = await _scheduled(esme, "Привет".encode("utf-16-be"), data_coding=8)
    answer = await esme.ask(_replace_sm(3, message_id, "Пока".encode("utf-16-be")))
    assert answer.status == rules.ESME_ROK
    assert (await _message(smsc, message_id)).text == "Пока"
    esme.close()


async def test_what_cannot_be_replaced_is_refused_and_costs_nothing(smsc):
    esme = await RawEsme.bound(smsc.port)
    message_id = await _scheduled(esme, b"Later")
    queued = await esme.ask(
        p.pdu(
            p.SUBMIT_SM,
            3,
            b"\x00\x05\x00INFORM\x00\x01\x01" + TELE2.encode() + b"\x00\x00\x00\x00\x00\x00"
            b"\x00\x00\x00\x00\x03Now",
        )
    )
    (queued_id,), _ = p.cstrings(queued.body, 1)
    answers = [
        await esme.ask(_replace_sm(4, queued_id, b"Too late")),
        await esme.ask(_replace_sm(5, "987654", b"Never given")),
        await esme.ask(_replace_sm(6, message_id, b"Not my sender", source="OTHER")),
        await esme.ask(_replace_sm(7, message_id, b"")),
        await esme.ask(_replace_sm(8, message_id, b"When?", schedule="tomorrow")),
        await esme.ask(_replace_sm(9, message_id, b"How long?", validity="000002000000000R")),
    ]
    assert [(a.command_id, a.status) for a in answers] == [
        (p.REPLACE_SM | p.RESP, rules.ESME_RREPLACEFAIL),
        (p.REPLACE_SM | p.RESP, rules.ESME_RINVMSGID),
        (p.REPLACE_SM | p.RESP, rules.ESME_RINVMSGID),
        (p.REPLACE_SM | p.RESP, rules.ESME_RINVMSGLEN),
        (p.REPLACE_SM | p.RESP, rules.ESME_RINVSCHED),
        (p.REPLACE_SM | p.RESP, rules.ESME_RINVEXPIRY),
    ]
    # Not enough money for the extra part (replace_sm carries 254 octets: two parts at
    # most): refused, the message as it was.
    now = smsc.gateway.clock()
    await smsc.gateway.store.credit(smsc.account_id, -(100_000 - 2 * 395), "debit", "t", now)
    poor = await esme.ask(_replace_sm(10, message_id, b"Two parts, please. " * 11))
    assert poor.status == rules.ESME_RX_R_APPN
    assert (await _message(smsc, message_id)).text == "Later"
    assert await _balance(smsc) == 0
    cancel = p.cstring("") + p.cstring(message_id) + b"\x05\x00INFORM\x00\x01\x01\x00"
    assert (await esme.ask(p.pdu(p.CANCEL_SM, 11, cancel))).status == rules.ESME_ROK
    gone = await esme.ask(_replace_sm(12, message_id, b"Cancelled already"))
    assert gone.status == rules.ESME_RREPLACEFAIL
    assert await _balance(smsc) == 395
    broken = await esme.ask(p.pdu(p.REPLACE_SM, 13, p.cstring("1") + b"\x00\x00"))
    assert (broken.command_id, broken.status) == (p.GENERIC_NACK, rules.ESME_RINVCMDLEN)
    esme.close()
