"""The SMPP server as a protocol peer: keep-alive, unbind, generic_nack, the size cap, dead
and silent clients, and the window; a misbehaving connection never disturbs a good one."""

from __future__ import annotations

import asyncio
import socket
import struct

import smpplib.consts as c
from smpplib import smpp

from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.domain import smpp_pdu as p, smpp_rules as rules

from .conftest import PASSWORD, SYSTEM_ID, Esme, Smsc

TELE2 = "79087964781"


async def _raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _read_pdu(reader: asyncio.StreamReader) -> p.Pdu:
    header = await reader.readexactly(16)
    length, command, status, sequence = p.HEADER.unpack(header)
    body = await reader.readexactly(length - 16)
    return p.Pdu(command, status, sequence, body, header + body)


def _bind(sequence: int = 1, password: str = PASSWORD) -> bytes:
    body = p.cstring(SYSTEM_ID) + p.cstring(password) + p.cstring("") + b"\x34\x00\x00\x00"
    return p.pdu(p.BIND_TRANSCEIVER, sequence, body)


async def _still_serves(smsc: Smsc) -> None:
    """A good client binds and sends as if nothing had happened."""
    esme = smsc.esme()
    await esme.bind()
    sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
    status, message_id = await esme.submit(**sent)
    assert status == rules.ESME_ROK and message_id
    await esme.close()


async def test_enquire_link_unbind_and_unknown_commands(smsc):
    reader, writer = await _raw(smsc.port)
    writer.write(_bind(1) + p.pdu(p.ENQUIRE_LINK, 2) + p.pdu(0x00000999, 3))
    # deliver_sm is ours to send: an ESME's is answered with its response, ESME_RINVCMDID.
    writer.write(p.pdu(p.DELIVER_SM, 4, p.cstring("1") + b"\x00\x00\x00"))
    answers = [await _read_pdu(reader) for _ in range(4)]
    assert [(a.command_id, a.status, a.sequence) for a in answers] == [
        (p.BIND_TRANSCEIVER | p.RESP, 0, 1),
        (p.ENQUIRE_LINK | p.RESP, 0, 2),
        (p.GENERIC_NACK, rules.ESME_RINVCMDID, 3),
        (p.DELIVER_SM | p.RESP, rules.ESME_RINVCMDID, 4),
    ]
    writer.write(p.pdu(p.UNBIND, 5))
    assert (await _read_pdu(reader)).command_id == p.UNBIND | p.RESP
    assert await reader.read() == b""  # and the server closes the connection
    writer.close()


async def test_a_submit_before_bind_and_a_second_bind_are_refused(smsc):
    reader, writer = await _raw(smsc.port)
    writer.write(p.pdu(p.SUBMIT_SM, 1, b"\x00" * 17) + _bind(2) + _bind(3))
    answers = [await _read_pdu(reader) for _ in range(3)]
    assert [(a.command_id, a.status) for a in answers] == [
        (p.SUBMIT_SM | p.RESP, rules.ESME_RINVBNDSTS),
        (p.BIND_TRANSCEIVER | p.RESP, 0),
        (p.BIND_TRANSCEIVER | p.RESP, rules.ESME_RALYBND),
    ]
    writer.close()


async def test_a_pdu_over_the_size_cap_or_a_broken_stream_closes_only_its_session(smsc):
    for garbage in (
        struct.pack(">IIII", 0x7FFFFFFF, p.SUBMIT_SM, 0, 1),  # a huge command_length
        struct.pack(">IIII", 8, p.ENQUIRE_LINK, 0, 1),  # shorter than a header
        _bind(1) + struct.pack(">IIII", 20_000, p.SUBMIT_SM, 0, 2),  # over 16 KiB
    ):
        reader, writer = await _raw(smsc.port)
        writer.write(garbage)
        answers = await reader.read()  # everything until the server closes
        assert answers.endswith(p.pdu(p.GENERIC_NACK, 0, status=rules.ESME_RINVCMDLEN))
        writer.close()
    # A truncated PDU and then silence: the connection waits for the rest, harming no one.
    reader, writer = await _raw(smsc.port)
    writer.write(_bind(1)[:10])
    await _still_serves(smsc)
    writer.close()


async def test_a_malformed_submit_is_nacked_and_the_session_goes_on(smsc):
    reader, writer = await _raw(smsc.port)
    writer.write(_bind(1) + p.pdu(p.SUBMIT_SM, 2, b"\x00\x01") + p.pdu(p.ENQUIRE_LINK, 3))
    answers = [await _read_pdu(reader) for _ in range(3)]
    assert [(a.command_id, a.status) for a in answers][1:] == [
        (p.GENERIC_NACK, rules.ESME_RINVCMDLEN),
        (p.ENQUIRE_LINK | p.RESP, 0),
    ]
    writer.close()


async def test_quiet_clients_are_asked_and_dead_or_unbound_ones_dropped(smsc):
    quick = SmppServer(
        smsc.gateway,
        SmppServerSettings(enquire_seconds=0.1, dead_seconds=0.5, bind_seconds=0.3),
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await quick.start(sock)
    try:
        port = sock.getsockname()[1]
        reader, writer = await _raw(port)  # never binds
        assert await reader.read() == b""
        writer.close()
        reader, writer = await _raw(port)
        writer.write(_bind(1))
        assert (await _read_pdu(reader)).status == 0
        # Quiet: the server checks we are there, and, never answered, gives up on us.
        rest = await reader.read()
        framed = p.PduFramer().feed(rest)
        assert framed and {pdu.command_id for pdu in framed} == {p.ENQUIRE_LINK}
        writer.close()
    finally:
        await quick.stop()


async def test_smpplib_keepalive_and_unbind(smsc):
    esme = smsc.esme()
    await esme.bind()
    await esme.call(esme.client.send_pdu, smpp.make_pdu("enquire_link", client=esme.client))
    assert (await esme.call(esme.client.read_pdu)).command == "enquire_link_resp"
    resp = await esme.call(esme.client.unbind)
    assert resp.command == "unbind_resp" and resp.status == c.SMPP_ESME_ROK
    await esme.close()


class _Held:
    """The gateway, with every send held until the test lets it go."""

    def __init__(self, gateway) -> None:
        self._gateway = gateway
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    async def send(self, account, request):
        await self.release.wait()
        return await self._gateway.send(account, request)


async def test_past_the_window_submits_are_throttled_not_dropped(smsc):
    held = _Held(smsc.gateway)
    narrow = SmppServer(held, SmppServerSettings(window=2))  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await narrow.start(sock)
    try:
        esme = Esme(sock.getsockname()[1])
        await esme.bind()
        sent = {"source_addr": "INFORM", "destination_addr": TELE2, "short_message": b"Hi"}
        for _ in range(3):
            await esme.call(esme.client.send_message, **sent)
        # Two are in flight: the third is answered at once, and not accepted.
        assert await esme.answer() == (rules.ESME_RTHROTTLED, "")
        held.release.set()
        answers = [await esme.answer(), await esme.answer()]
        assert [status for status, _ in answers] == [rules.ESME_ROK, rules.ESME_ROK]
        assert len(await smsc.gateway.store.find_messages(smsc.account_id)) == 2
        await esme.close()
    finally:
        await narrow.stop()
