"""A submit_multi's one message_id names the whole submit (docs/decisions.md "One id for a
submit_multi"): cancel_sm by it cancels every destination still scheduled, query_sm by it
answers for the first destination, and each destination's receipt carries it with that
destination as source_addr, so the ESME matches receipts by (id, destination). Written byte
by byte (smpplib has no submit_multi)."""

from __future__ import annotations

from pilotgate.domain import smpp_pdu as p, smpp_queries as q, smpp_rules as rules
from pilotgate.domain.messages import Status

from .conftest import Smsc
from .test_multi import RawEsme, _unsuccess
from .test_protocol import _read_pdu

TELE2 = ["79087964781", "79087964782", "79087964783"]  # 3.95 a part each
IN_AN_HOUR = "000000010000000R"


def _submit_multi(
    sequence: int, phones: list[str], *, schedule: str = "", receipt: int = 0
) -> bytes:
    body = b"\x00" + b"\x05\x00" + b"INFORM\x00" + bytes((len(phones),))
    for phone in phones:
        body += b"\x01\x01\x01" + phone.encode() + b"\x00"
    body += b"\x00\x00\x00" + p.cstring(schedule) + p.cstring("")
    body += bytes((receipt, 0, 0, 0, 5)) + b"Later"
    return p.pdu(p.SUBMIT_MULTI, sequence, body)


def _cancel_sm(sequence: int, message_id: str, destination: str = "") -> bytes:
    body = p.cstring("") + p.cstring(message_id) + b"\x05\x00" + p.cstring("INFORM")
    return p.pdu(p.CANCEL_SM, sequence, body + b"\x01\x01" + p.cstring(destination))


async def _balance(smsc: Smsc) -> int:
    account = await smsc.gateway.store.account(smsc.account_id)
    assert account is not None
    return account.balance


async def test_one_id_names_the_submit_its_cancel_and_its_receipts(smsc):
    esme = await RawEsme.bound(smsc.port)
    answer = await esme.ask(_submit_multi(2, TELE2, schedule=IN_AN_HOUR, receipt=1))
    group, refused = _unsuccess(answer.body)
    assert (answer.status, refused) == (rules.ESME_ROK, [])
    messages = await smsc.gateway.store.find_messages(smsc.account_id)
    assert {m.packet_id for m in messages} == {int(group)}
    assert min(m.server_id for m in messages) == int(group)
    assert await _balance(smsc) == 100_000 - 3 * 395
    query = await esme.ask(p.pdu(p.QUERY_SM, 3, p.cstring(group) + b"\x05\x00INFORM\x00"))
    assert (query.status, query.body[-2]) == (rules.ESME_ROK, q.ENROUTE)
    cancelled = await esme.ask(_cancel_sm(4, group))
    assert (cancelled.command_id, cancelled.status) == (p.CANCEL_SM | p.RESP, rules.ESME_ROK)
    assert await _balance(smsc) == 100_000  # every destination refunded, exactly
    ended = await smsc.gateway.store.find_messages(smsc.account_id)
    assert {(m.status, m.error) for m in ended} == {(Status.ERROR, 604)}
    receipts = [await _next(esme) for _ in TELE2]  # each destination's, under the one id
    seen = sorted((_source(r), _receipted(r)) for r in receipts)
    assert seen == [(phone, group) for phone in TELE2]
    again = await esme.ask(_cancel_sm(9, group))
    assert again.status == rules.ESME_RCANCELFAIL  # nothing of it is scheduled any more
    esme.close()


async def _next(esme: RawEsme) -> p.Pdu:
    """The next deliver_sm, answered."""
    while True:
        pdu = await _read_pdu(esme.reader)
        if pdu.command_id == p.DELIVER_SM:
            esme.writer.write(p.pdu(p.DELIVER_SM | p.RESP, pdu.sequence, b"\x00"))
            return pdu


def _source(pdu: p.Pdu) -> str:
    """A deliver_sm's source_addr: after service_type, source_addr_ton and _npi."""
    _, rest = p.cstrings(pdu.body, 1)
    (address,), _ = p.cstrings(rest[2:], 1)
    return address


def _receipted(pdu: p.Pdu) -> str:
    text = pdu.body.decode("latin-1")
    start = text.index("id:") + 3
    return text[start : text.index(" ", start)]


async def test_cancelling_by_source_and_destination(smsc):
    esme = await RawEsme.bound(smsc.port)
    for n, phone in enumerate([TELE2[0], TELE2[0], TELE2[1]], start=2):
        answer = await esme.ask(_submit_multi(n, [phone], schedule=IN_AN_HOUR))
        assert answer.status == rules.ESME_ROK
    assert await _balance(smsc) == 100_000 - 3 * 395
    # Without a message_id: every scheduled message from INFORM to that phone, and only those.
    cancelled = await esme.ask(_cancel_sm(7, "", TELE2[0]))
    assert cancelled.status == rules.ESME_ROK
    assert await _balance(smsc) == 100_000 - 395
    by_phone = {
        (m.phone, m.status) for m in await smsc.gateway.store.find_messages(smsc.account_id)
    }
    assert by_phone == {(TELE2[0], Status.ERROR), (TELE2[1], Status.SCHEDULED)}
    none_left = await esme.ask(_cancel_sm(8, "", TELE2[0]))
    not_a_phone = await esme.ask(_cancel_sm(9, "", "12"))
    assert [none_left.status, not_a_phone.status] == [
        rules.ESME_RCANCELFAIL,
        rules.ESME_RINVDSTADR,
    ]
    assert await _balance(smsc) == 100_000 - 395
    esme.close()
