"""query_sm and cancel_sm: an ESME asks about the messages it sent and cancels a scheduled
one, which ends -2/604 with its price back on the balance. query_sm through smpplib;
cancel_sm, which smpplib does not have, written byte by byte here."""

from __future__ import annotations

from datetime import timedelta

import smpplib.smpp

from pilotgate.domain import smpp_pdu as p, smpp_queries as q, smpp_rules as rules
from pilotgate.domain.messages import Status
from pilotgate.gateway import SendRequest
from pilotgate.storage.base import NewAccount

from .conftest import Smsc
from .test_protocol import _bind, _raw, _read_pdu

TELE2 = "79087964781"  # 3.95 a part in the shipped default tariff
IN_AN_HOUR = "000000010000000R"


async def _balance(smsc: Smsc) -> int:
    account = await smsc.gateway.store.account(smsc.account_id)
    assert account is not None
    return account.balance


async def _submit(esme, schedule: str = "") -> str:
    status, message_id = await esme.submit(
        source_addr="INFORM",
        destination_addr=TELE2,
        short_message=b"Later",
        schedule_delivery_time=schedule or None,
    )
    assert status == rules.ESME_ROK
    return str(message_id)


async def _query(esme, message_id: str):
    await esme.call(esme.client.query_message, message_id=message_id, source_addr="INFORM")
    return await esme.call(esme.client.read_pdu)


def _cancel_sm(sequence: int, message_id: str) -> bytes:
    body = (
        p.cstring("")  # service_type
        + p.cstring(message_id)
        + b"\x05\x00"
        + p.cstring("INFORM")
        + b"\x01\x01"
        + p.cstring(TELE2)
    )
    return p.pdu(p.CANCEL_SM, sequence, body)


async def _cancel(port: int, *message_ids: str) -> list[int]:
    """Bind on a connection of its own, send one cancel_sm an id: the statuses answered."""
    reader, writer = await _raw(port)
    writer.write(_bind(1))
    assert (await _read_pdu(reader)).status == rules.ESME_ROK
    for n, message_id in enumerate(message_ids, start=2):
        writer.write(_cancel_sm(n, message_id))
    answers = [await _read_pdu(reader) for _ in message_ids]
    writer.close()
    assert {a.command_id for a in answers} == {p.CANCEL_SM | p.RESP}
    return [a.status for a in sorted(answers, key=lambda a: a.sequence)]


async def test_a_scheduled_message_is_queried_cancelled_and_refunded(smsc):
    esme = smsc.esme()
    await esme.bind()
    message_id = await _submit(esme, IN_AN_HOUR)
    assert await _balance(smsc) == 100_000 - 395
    resp = await _query(esme, message_id)
    assert (resp.command, resp.status, resp.message_state) == ("query_sm_resp", 0, q.ENROUTE)
    assert resp.final_date in (None, b"")
    # Two cancels of it at once: one succeeds, the other finds it no longer scheduled.
    assert sorted(await _cancel(smsc.port, message_id, message_id)) == [
        rules.ESME_ROK,
        rules.ESME_RCANCELFAIL,
    ]
    [message] = await smsc.gateway.store.messages_by_id(smsc.account_id, [int(message_id)])
    assert (message.status, message.error) == (Status.ERROR, 604)
    assert await _balance(smsc) == 100_000  # refunded exactly, once
    resp = await _query(esme, message_id)
    assert (resp.status, resp.message_state) == (0, q.DELETED)
    assert len(resp.final_date) == 16 and resp.final_date.endswith(b"+")
    await esme.close()


async def test_what_cannot_be_cancelled_or_queried_is_refused(smsc):
    esme = smsc.esme()
    await esme.bind()
    queued = await _submit(esme)
    # Not scheduled, an id we never gave, one that is not a number, none at all.
    assert await _cancel(smsc.port, queued, "987654", "abc", "") == [
        rules.ESME_RCANCELFAIL,
        rules.ESME_RINVMSGID,
        rules.ESME_RINVMSGID,
        rules.ESME_RCANCELFAIL,
    ]
    assert await _balance(smsc) == 100_000 - 395  # the queued message stays charged
    resp = await _query(esme, queued)
    assert (resp.status, resp.message_state) == (0, q.ENROUTE)
    resp = await _query(esme, "987654")
    assert resp.status == rules.ESME_RINVMSGID
    await esme.close()


async def test_another_accounts_message_is_as_unknown_as_none(smsc):
    store, now = smsc.gateway.store, smsc.gateway.clock()
    other = await store.create_account(
        NewAccount(email="b@example.org", password_hash="!", key_digest="b", tariff_id=1), now
    )
    await store.credit(other.id, 10_000, "topup", "test credit", now)
    later = str(int((now + timedelta(hours=1)).timestamp()))
    request = SendRequest(text="Theirs", to=TELE2, sender="INFORM", send_datetime=later)
    [(theirs, _)] = (await smsc.gateway.send(other, request)).items
    assert await _cancel(smsc.port, str(theirs)) == [rules.ESME_RINVMSGID]
    [message] = await store.messages_by_id(other.id, [theirs])
    assert message.status == Status.SCHEDULED


async def test_query_and_cancel_need_a_transmitter_bind(smsc):
    reader, writer = await _raw(smsc.port)
    writer.write(_cancel_sm(1, "1"))
    writer.write(p.pdu(p.QUERY_SM, 2, p.cstring("1") + b"\x00\x00\x00"))
    answers = [await _read_pdu(reader) for _ in range(2)]
    assert [(a.command_id, a.status) for a in answers] == [
        (p.CANCEL_SM | p.RESP, rules.ESME_RINVBNDSTS),
        (p.QUERY_SM | p.RESP, rules.ESME_RINVBNDSTS),
    ]
    writer.close()


def test_smpplib_reads_our_query_sm_resp():
    """The bytes of our query_sm_resp, parsed by smpplib: the fields land where it reads."""
    body = q.query_resp_body("42", "261206120000000+", q.DELIVERED)
    resp = smpplib.smpp.parse_pdu(p.pdu(p.QUERY_SM | p.RESP, 7, body))
    assert (resp.message_id, resp.final_date, resp.message_state) == (
        b"42",
        b"261206120000000+",
        q.DELIVERED,
    )
