"""Limits per account over SMPP: binds past the account's ceiling are refused (across every
server sharing the database, as two processes would), and submits past its messages per
second are answered ESME_RTHROTTLED, never dropped: each gets an answer."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import smpplib.exceptions

from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.api.smpp.limits import LimitSettings
from pilotgate.domain import smpp_rules as rules

from .conftest import Esme, Smsc, pdu_error

TELE2 = "79087964781"


@pytest.fixture
async def second_port(smsc: Smsc) -> AsyncIterator[int]:
    """Another server on the same database: another process, as far as the limits go."""
    other = SmppServer(smsc.gateway, SmppServerSettings())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await other.start(sock)
    try:
        yield sock.getsockname()[1]
    finally:
        await other.stop()


async def _refused(esme: Esme) -> int:
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        await esme.bind()
    await esme.close()
    return pdu_error(refused.value)


async def test_binds_past_the_accounts_ceiling_are_refused_on_every_server(smsc, second_port):
    await smsc.gateway.store.set_smpp_limits(smsc.account_id, 2, None)
    first, second = smsc.esme(), Esme(second_port)
    await first.bind()
    await second.bind()
    # Two binds held, one on each server: a third is refused wherever it comes.
    assert await _refused(smsc.esme()) == rules.ESME_RBINDFAIL
    assert await _refused(Esme(second_port)) == rules.ESME_RBINDFAIL
    # An unbind frees its place.
    await first.call(first.client.unbind)
    await first.close()
    third = Esme(second_port)
    await third.bind()
    for esme in (second, third):
        await esme.close()


async def test_submits_past_the_rate_are_throttled_and_answered(smsc):
    await smsc.gateway.store.set_smpp_limits(smsc.account_id, None, 1)
    esme = smsc.esme()
    await esme.bind()
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    # Sent back to back: the first takes the second's one token, the rest are throttled.
    for _ in range(3):
        await esme.call(esme.client.send_message, **sent)
    answers = sorted([(await esme.answer())[0] for _ in range(3)])
    assert answers == [rules.ESME_ROK, rules.ESME_RTHROTTLED, rules.ESME_RTHROTTLED]
    assert len(await smsc.gateway.store.find_messages(smsc.account_id)) == 1
    await esme.close()


async def test_the_operators_defaults_apply_to_accounts_without_their_own(smsc):
    strict = SmppServer(smsc.gateway, SmppServerSettings(limits=LimitSettings(max_binds=1)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await strict.start(sock)
    try:
        esme = Esme(sock.getsockname()[1])
        await esme.bind()
        assert await _refused(Esme(sock.getsockname()[1])) == rules.ESME_RBINDFAIL
        await esme.close()
    finally:
        await strict.stop()
