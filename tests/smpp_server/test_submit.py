"""Customers' systems bind to PilotGate over SMPP and send through the same rules as API-1:
what an ESME written apart from our code (smpplib) sees, and what the account then holds."""

from __future__ import annotations

import pytest
import smpplib.consts as c
import smpplib.exceptions
import smpplib.gsm

from pilotgate.domain import smpp_rules as rules
from pilotgate.domain.accounts import AccountState
from pilotgate.pipeline import metrics

from .conftest import Smsc, pdu_error

TELE2 = "79087964781"  # 3.95 a part in the shipped default tariff


async def _message(smsc: Smsc, message_id: str):
    [found] = await smsc.gateway.store.messages_by_id(smsc.account_id, [int(message_id)])
    return found


async def _send_text(esme, text: str, **fields) -> list[tuple[int, str]]:
    """Every part of `text` as smpplib splits it (UDH), each part's answer in order."""
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    for part in parts:
        await esme.call(
            esme.client.send_message,
            source_addr="INFORM",
            destination_addr=TELE2,
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            **fields,
        )
    return sorted([await esme.answer() for _ in parts])


async def test_a_short_gsm_message_is_one_message_with_our_server_id(smsc):
    esme = smsc.esme()
    await esme.bind(kind="transmitter")
    [(status, message_id)] = await _send_text(esme, "Hello, world!")
    assert status == rules.ESME_ROK
    message = await _message(smsc, message_id)
    assert (message.phone, message.sender, message.text, message.parts) == (
        TELE2,
        "INFORM",
        "Hello, world!",
        1,
    )
    await esme.close()


@pytest.mark.parametrize(
    ("text", "parts"),
    [("Long text. " * 30, 3), ("Привет, это длинное сообщение. " * 5, 3), ("Ёлка", 1)],
)
async def test_long_and_ucs2_messages_are_reassembled_into_one_priced_message(smsc, text, parts):
    esme = smsc.esme()
    await esme.bind()
    answers = await _send_text(esme, text)
    # Every part is answered with the one message's server_id, once it is committed.
    assert len(answers) == parts and {a for a in answers} == {answers[0]}
    status, message_id = answers[0]
    assert status == rules.ESME_ROK
    message = await _message(smsc, message_id)
    assert (message.text, message.parts, message.price) == (text, parts, parts * 395)
    await esme.close()


async def test_sar_tlvs_and_message_payload_carry_long_messages_too(smsc):
    esme = smsc.esme()
    await esme.bind()
    text = "Sar segmented text, " * 12
    chunks = [text[:153].encode(), text[153:].encode()]
    for seq, chunk in enumerate(chunks, start=1):
        await esme.call(
            esme.client.send_message,
            source_addr="INFORM",
            destination_addr=TELE2,
            short_message=chunk,
            sar_msg_ref_num=7,
            sar_total_segments=2,
            sar_segment_seqnum=seq,
        )
    first, second = await esme.answer(), await esme.answer()
    assert first == second and first[0] == rules.ESME_ROK
    assert (await _message(smsc, first[1])).text == text
    payload = "Payload text " * 20
    status, message_id = await esme.submit(
        source_addr="INFORM",
        destination_addr=TELE2,
        short_message=b"",
        message_payload=payload.encode(),
    )
    assert status == rules.ESME_ROK
    assert (await _message(smsc, message_id)).text == payload
    await esme.close()


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"source_addr": "NOTMINE"}, rules.ESME_RINVSRCADR),  # sender not approved (204)
        ({"destination_addr": "12"}, rules.ESME_RINVDSTADR),  # not a phone
        ({"schedule_delivery_time": "990101000000000+"}, rules.ESME_RINVSCHED),
        ({"validity_period": "000002000000000R"}, rules.ESME_RINVEXPIRY),  # 2 days: > 1440 min
        ({"data_coding": 4}, rules.ESME_RX_P_APPN),  # binary: not a text
    ],
)
async def test_refusals_have_their_documented_command_status(smsc, fields, status):
    esme = smsc.esme()
    await esme.bind()
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    assert await esme.submit(**{**sent, **fields}) == (status, "")
    await esme.close()


async def test_no_money_is_a_refusal_and_nothing_is_stored(smsc):
    from pilotgate.domain import audit
    from pilotgate.operations import accounts

    await accounts.credit(smsc.gateway, audit.CLI, smsc.account_id, "-1000")
    esme = smsc.esme()
    await esme.bind()
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    assert await esme.submit(**sent) == (rules.ESME_RX_R_APPN, "")
    assert await smsc.gateway.store.find_messages(smsc.account_id) == []
    await esme.close()


async def test_scheduled_and_relative_validity_are_kept(smsc):
    esme = smsc.esme()
    await esme.bind()
    status, message_id = await esme.submit(
        source_addr="INFORM",
        destination_addr=TELE2,
        short_message=b"Later",
        schedule_delivery_time="000000010000000R",  # in an hour
        validity_period="000000020000000R",  # two hours from now: one after the schedule
    )
    assert status == rules.ESME_ROK
    message = await _message(smsc, message_id)
    assert message.send_datetime is not None and message.ttl == 60
    await esme.close()


async def test_a_wrong_password_is_refused_and_the_connection_closed(smsc):
    def counted() -> float:
        wanted = {"reason": "password"}
        return metrics.REGISTRY.get_sample_value("pilotgate_smpp_bind_refusals_total", wanted) or 0

    before = counted()
    esme = smsc.esme()
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        await esme.bind(password="wrong123")
    assert pdu_error(refused.value) == c.SMPP_ESME_RINVPASWD
    with pytest.raises(smpplib.exceptions.ConnectionError):
        await esme.call(esme.client.read_pdu)
    await esme.close()
    # An operator sees it without reading the log (Kannel gives up after one such refusal).
    assert counted() == before + 1


async def test_a_receiver_may_not_submit(smsc):
    esme = smsc.esme()
    await esme.bind(kind="receiver")
    # smpplib itself refuses to send submit_sm on a receiver bind; the raw PDU goes anyway.
    esme.client.state = c.SMPP_CLIENT_STATE_BOUND_TX
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    assert await esme.submit(**sent) == (rules.ESME_RINVBNDSTS, "")
    await esme.close()


async def test_a_burst_in_flight_is_accepted_and_a_block_since_refuses_the_next(smsc):
    # The submit_sm of a burst share one read of the account (api/smpp/submits.py); each is
    # still its own message, and a block committed before a submit_sm arrives refuses it.
    esme = smsc.esme()
    await esme.bind(kind="transmitter")
    for n in range(8):
        await esme.call(
            esme.client.send_message,
            source_addr="INFORM",
            destination_addr=TELE2,
            short_message=b"burst %d" % n,
        )
    answers = [await esme.answer() for _ in range(8)]
    assert {status for status, _ in answers} == {rules.ESME_ROK}
    ids = {message_id for _, message_id in answers}
    assert len(ids) == 8
    texts = {(await _message(smsc, message_id)).text for message_id in ids}
    assert texts == {f"burst {n}" for n in range(8)}
    await smsc.gateway.store.set_account_state(smsc.account_id, AccountState.BLOCKED_SPAM)
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    assert await esme.submit(**sent) == (rules.ESME_RX_R_APPN, "")
    await esme.close()
