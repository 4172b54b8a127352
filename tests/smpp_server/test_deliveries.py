"""Receipts and inbound SMS back to a customer's receiving bind, as an ESME written apart from
our code (smpplib) sees them: a deliver_sm per receipt with the standard text and TLVs, an
inbound SMS as a plain deliver_sm, a refused deliver_sm sent again, a transmitter bind left
alone, and what waited while nobody was bound sent on the next bind."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import smpplib.consts as c
import smpplib.gsm
import smpplib.smpp

from pilotgate.domain import smpp_rules as rules
from pilotgate.domain.messages import Status
from pilotgate.storage.base import Handover

from .conftest import Esme, Smsc

TELE2 = "79087964781"
RECEIPT = re.compile(
    r"^id:(\d+) sub:001 dlvrd:(\d{3}) submit date:\d{10} done date:\d{10} "
    r"stat:(\w+) err:(\d{3}) text:(.*)$"
)


async def _deliver_sm(esme: Esme, status: int = 0) -> Any:
    """Read PDUs until a deliver_sm comes; answer it with `status`."""
    while True:
        pdu = await esme.call(esme.client.read_pdu)
        if pdu.command == "enquire_link":
            resp = smpplib.smpp.make_pdu("enquire_link_resp", client=esme.client)
            resp.sequence = pdu.sequence
            await esme.call(esme.client.send_pdu, resp)
        elif pdu.command == "deliver_sm":
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=esme.client, status=status)
            resp.sequence = pdu.sequence
            await esme.call(esme.client.send_pdu, resp)
            return pdu


async def _leave(esme: Esme) -> None:
    """unbind (answered once our deliver_sm's answers are recorded), then disconnect."""
    await esme.call(esme.client.unbind)
    await esme.close()


async def _waiting(smsc: Smsc) -> int:
    return (await smsc.gateway.deliveries_waiting()).get(smsc.account_id, 0)


async def _inbound(smsc: Smsc, text: str) -> int:
    now = datetime.now(UTC)
    return await smsc.gateway.store.add_inbound(smsc.account_id, TELE2, "79990000001", text, now)


async def _finish(smsc: Smsc, ends: dict[int, tuple[Status, int]]) -> None:
    """What the pipeline does when the operator reports how the messages ended."""
    store, now = smsc.gateway.store, datetime.now(UTC)
    claimed = await store.claim("w", now, now + timedelta(seconds=30), 10)
    assert sorted(m.server_id for m in claimed) == sorted(ends)
    handovers = [
        Handover(
            server_id=server_id,
            connector="emulator",
            remote_id=f"r{server_id}",
            outcome_status=status,
            outcome_error=error,
            outcome_at=now,
        )
        for server_id, (status, error) in ends.items()
    ]
    await store.record_handover("w", handovers, now)
    await store.apply_due_outcomes(now + timedelta(seconds=1), 10)


async def test_a_receipt_comes_back_with_the_server_id_it_receipts(smsc):
    esme = smsc.esme()
    await esme.bind()
    status, message_id = await esme.submit(
        source_addr="INFORM",
        destination_addr=TELE2,
        short_message=b"Hello, receipts!",
        registered_delivery=c.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
    )
    assert status == rules.ESME_ROK
    await _finish(smsc, {int(message_id): (Status.DELIVERED, 0)})
    pdu = await _deliver_sm(esme)
    assert pdu.esm_class == 0x04
    assert (pdu.source_addr, pdu.destination_addr) == (TELE2.encode(), b"INFORM")
    assert pdu.receipted_message_id == message_id.encode()
    assert pdu.message_state == 2
    match = RECEIPT.match(pdu.short_message.decode())
    assert match and match.groups() == (message_id, "001", "DELIVRD", "000", "Hello, receipts!")
    await _leave(esme)
    assert await _waiting(smsc) == 0


async def test_a_long_message_asking_for_a_receipt_in_its_first_part_only_gets_it(smsc):
    # Kannel sets registered_delivery on the first part of a long message only.
    esme = smsc.esme()
    await esme.bind()
    parts, coding, esm_class = smpplib.gsm.make_parts("Long text. " * 30)
    for n, part in enumerate(parts):
        await esme.call(
            esme.client.send_message,
            source_addr="INFORM",
            destination_addr=TELE2,
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            registered_delivery=c.SMPP_SMSC_DELIVERY_RECEIPT_BOTH if n == 0 else 0,
        )
    answers = {await esme.answer() for _ in parts}
    [(status, message_id)] = answers
    assert status == rules.ESME_ROK and len(parts) == 3
    await _finish(smsc, {int(message_id): (Status.DELIVERED, 0)})
    pdu = await _deliver_sm(esme)
    assert pdu.receipted_message_id == message_id.encode()
    assert pdu.message_state == 2
    await _leave(esme)


async def test_failures_only_skips_the_delivered_and_reports_the_undelivered(smsc):
    esme = smsc.esme()
    await esme.bind()
    sent = []
    for _ in range(2):
        status, message_id = await esme.submit(
            source_addr="INFORM",
            destination_addr=TELE2,
            short_message=b"Only if it fails",
            registered_delivery=c.SMPP_SMSC_DELIVERY_RECEIPT_FAILURE,
        )
        assert status == rules.ESME_ROK
        sent.append(int(message_id))
    await _finish(smsc, {sent[0]: (Status.DELIVERED, 0), sent[1]: (Status.UNDELIVERED, 601)})
    pdu = await _deliver_sm(esme)
    assert pdu.receipted_message_id == str(sent[1]).encode()
    assert pdu.message_state == 5
    assert b" stat:UNDELIV err:601 " in pdu.short_message
    await _leave(esme)
    assert await _waiting(smsc) == 0


async def test_an_inbound_sms_waits_for_a_receiving_bind(smsc):
    await _inbound(smsc, "Да, приду")
    transmitter = smsc.esme()
    await transmitter.bind(kind="transmitter")  # a transmitter bind receives nothing
    receiver = smsc.esme()
    await receiver.bind(kind="receiver")
    pdu = await _deliver_sm(receiver)
    assert pdu.esm_class == 0 and pdu.data_coding == 8
    assert pdu.short_message.decode("utf-16-be") == "Да, приду"
    assert (pdu.source_addr, pdu.destination_addr) == (TELE2.encode(), b"79990000001")
    await _leave(receiver)
    await _leave(transmitter)
    assert await _waiting(smsc) == 0


async def test_a_refused_deliver_sm_is_sent_again(smsc):
    esme = smsc.esme()
    await esme.bind()
    await _inbound(smsc, "Hello")
    first = await _deliver_sm(esme, status=rules.ESME_RSYSERR)
    again = await _deliver_sm(esme)  # after its backoff
    assert again.short_message == first.short_message == b"Hello"
    assert again.sequence != first.sequence
    await _leave(esme)
    assert await _waiting(smsc) == 0
