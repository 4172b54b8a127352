"""The SIP connector against SIPp on loopback: answered (with the audio checked), busy,
unanswered, flash calls; and peers that never answer or send garbage, and a taken RTP port."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import socket
import typing
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pilotgate.connectors.base import Accepted, MobileOriginated, Rejected
from pilotgate.connectors.sip import SipConnector, SipSettings, media
from pilotgate.connectors.sip.tts import Synthesizer
from pilotgate.domain import audio
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.receipts import Receipt
from tests.sip.peer import RtpSink, Sipp, free_port, needs_espeak, needs_sipp

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TEXT = "Ваш код 1234"


class Sink:
    """The pipeline's side: receipts as they come."""

    def __init__(self) -> None:
        self.got: list[Receipt] = []
        self.arrived = asyncio.Event()

    async def receipts(self, connector: str, receipts: Sequence[Receipt]) -> None:
        self.got.extend(receipts)
        self.arrived.set()

    async def inbound(self, connector: str, messages: Sequence[MobileOriginated]) -> None:
        raise AssertionError("no inbound over SIP")

    async def pending(self, connector: str, limit: int) -> list[str]:
        return []  # a SIP link learns each outcome on its call; it never polls

    async def wait(self, count: int = 1) -> list[Receipt]:
        async with asyncio.timeout(30):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.got


def message(server_id: int, channel: str, text: str, sender: str = "GOLOS") -> Message:
    return Message(
        server_id=server_id, packet_id=server_id, account_id=1, phone="79087964781",
        sender=sender, sender_orig=sender, text=text, parts=1, channel=channel, price=650,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, created=NOW, modified=NOW, country="RU", operator="", test=False,
    )  # fmt: skip


def connector(tmp_path: Path, port: int, **extra: object) -> SipConnector:
    rtp = free_port()
    settings = {
        "host": "127.0.0.1", "port": port, "local_host": "127.0.0.1",
        "rtp_port_min": rtp - rtp % 2, "rtp_port_max": rtp - rtp % 2 + 20,
        "answer_timeout": 2, "invite_timeout": 2, "flash_timeout": 2,
        "cache_dir": str(tmp_path / "speech"), "caller_pool": "7495000", **extra,
    }  # fmt: skip
    return SipConnector(SipSettings.from_json("trunk", json.dumps(settings)))


async def until_bound(link: SipConnector) -> None:
    async with asyncio.timeout(10):
        while not link.state().bound:  # noqa: ASYNC110 - connecting has no event to wait on
            await asyncio.sleep(0.02)


async def call(link: SipConnector, msg: Message, sink: Sink) -> Receipt:
    await link.start(sink)
    try:
        await until_bound(link)
        outcomes = await link.submit([msg], NOW)
        assert isinstance(outcomes[0], Accepted), outcomes
        (receipt,) = await sink.wait()
        assert receipt.remote_id == outcomes[0].remote_id
        return receipt
    finally:
        await link.stop()


@needs_sipp
@needs_espeak
@pytest.mark.parametrize(("codec", "name"), [("0", "PCMU"), ("8", "PCMA")])
async def test_answered_call_plays_the_whole_text(tmp_path: Path, codec: str, name: str) -> None:
    sink_rtp, rtp_port = await RtpSink.open()
    peer = Sipp(
        "answer.xml",
        tmp_path,
        keys={"rtpport": str(rtp_port), "codec": codec, "codecname": name},
    )
    try:
        receipt = await call(connector(tmp_path, peer.port), message(1, "voice", TEXT), Sink())
        assert await peer.wait() == 0, peer.log()
    finally:
        peer.stop()
        sink_rtp.close()
    assert (receipt.status, receipt.error) == (Status.DELIVERED, 0)
    pcm = await Synthesizer(str(tmp_path / "speech")).speak(TEXT, "GOLOS")  # from the cache
    expected = math.ceil(len(pcm) / 2 / audio.FRAME_SAMPLES)
    assert len(sink_rtp.packets) == expected  # every 20 ms of the speech, no more
    kinds = {media.payload_of(p)[0] for p in sink_rtp.packets}
    assert kinds == {int(codec)}
    samples = [
        s
        for p in sink_rtp.packets
        for s in audio.decode(media.payload_of(p)[1], "ulaw" if codec == "0" else "alaw")
    ]
    loud = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert loud > 500  # speech, not silence
    assert 0.5 < expected * 0.02 < 3.0  # "Ваш код 1234" takes a second or two


@needs_sipp
@pytest.mark.parametrize(
    ("code", "reason", "error"),
    [("486", "Busy Here", 601), ("603", "Decline", 603), ("404", "Not Found", 602)],
)
async def test_refused_calls_end_undelivered(tmp_path: Path, code: str, reason: str, error: int):
    peer = Sipp("busy.xml", tmp_path, replace={"CODE": code, "REASON": reason})
    try:
        msg = message(2, "flashcall", "1234", "FLASHCALL")
        receipt = await call(connector(tmp_path, peer.port), msg, Sink())
        assert await peer.wait() == 0, peer.log()  # the final response was ACKed
    finally:
        peer.stop()
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, error)


@needs_sipp
@needs_espeak
async def test_unanswered_voice_call_is_cancelled(tmp_path: Path) -> None:
    peer = Sipp("ring.xml", tmp_path, replace={"CALLER_RE": "pilotgate"})
    try:
        receipt = await call(connector(tmp_path, peer.port), message(3, "voice", "Hello"), Sink())
        assert await peer.wait() == 0, peer.log()  # CANCEL came, 487 was ACKed
    finally:
        peer.stop()
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, 601)


@needs_sipp
async def test_flash_call_shows_the_code_and_is_cancelled_on_ringing(tmp_path: Path) -> None:
    peer = Sipp("ring.xml", tmp_path, replace={"CALLER_RE": "74950005678"})
    try:
        link = connector(tmp_path, peer.port, flash_timeout=20, answer_timeout=20)
        receipt = await call(link, message(4, "flashcall", "5678", "FLASHCALL"), Sink())
        assert await peer.wait() == 0, peer.log()  # caller matched, CANCEL before answer
    finally:
        peer.stop()
    assert (receipt.status, receipt.error) == (Status.DELIVERED, 0)
    assert "CANCEL sip:79087964781@" in peer.log()


class Silent(asyncio.DatagramProtocol):
    """A "trunk" that takes datagrams and never answers, or answers each with garbage, or
    answers the first INVITE with a 200 after `late` seconds."""

    def __init__(self, garbage: bool = False, late: float = 0.0) -> None:
        self.garbage, self.late = garbage, late
        self.received: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.acked_and_hung_up = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        if self.garbage and self.transport is not None:
            self.transport.sendto(b"\x00\xffnot sip at all", addr)
            self.transport.sendto(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", addr)
        if self.late and data.startswith(b"INVITE ") and len(self.received) == 1:
            head = data.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            kept = [h for h in head if h.split(b":")[0] in (b"Via", b"From", b"Call-ID", b"CSeq")]
            to = b"To: <sip:79087964781@127.0.0.1>;tag=late"
            sdp = b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\n"
            answer = b"\r\n".join([b"SIP/2.0 200 OK", *kept, to, b"Contact: <sip:peer@127.0.0.1>",
                                   b"Content-Length: %d" % len(sdp), b"", sdp])  # fmt: skip
            assert self.transport is not None
            asyncio.get_running_loop().call_later(self.late, self.transport.sendto, answer, addr)
        kinds = {d.split(b" ")[0] for d in self.received}
        if self.late and {b"ACK", b"BYE"} <= kinds:
            self.acked_and_hung_up.set()


async def silent_peer(
    garbage: bool = False, late: float = 0.0
) -> tuple[Silent, int, asyncio.DatagramTransport]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(
        lambda: Silent(garbage, late), local_addr=("127.0.0.1", 0)
    )
    return peer, int(transport.get_extra_info("sockname")[1]), transport


def ports_free(link: SipConnector) -> bool:
    """Every RTP port of the link's range can be bound again: none leaked."""
    s = link.settings
    for port in range(s.rtp_port_min, s.rtp_port_max + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@pytest.mark.parametrize("garbage", [False, True])
async def test_a_peer_that_never_answers_or_sends_garbage(tmp_path: Path, garbage: bool) -> None:
    peer, port, transport = await silent_peer(garbage)
    link = connector(tmp_path, port, invite_timeout=1.2)
    try:
        receipt = await call(link, message(5, "flashcall", "1234", "FLASHCALL"), Sink())
    finally:
        transport.close()
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, 602)
    invites = [d for d in peer.received if d.startswith(b"INVITE ")]
    assert len(invites) >= 2  # retransmitted (T1 = 0.5 s) while nothing came back
    assert not any(d.startswith(b"CANCEL") for d in peer.received)  # nothing to cancel yet
    if garbage:
        assert int(link.state().detail["garbage"]) >= 2
    assert link.state().window_used == 0 and ports_free(link)


@needs_sipp
@needs_espeak
async def test_a_taken_rtp_port_is_skipped(tmp_path: Path) -> None:
    sink_rtp, rtp_port = await RtpSink.open()
    peer = Sipp(
        "answer.xml", tmp_path, keys={"rtpport": str(rtp_port), "codec": "0", "codecname": "PCMU"}
    )
    link = connector(tmp_path, peer.port)
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        taken.bind(("127.0.0.1", link.settings.rtp_port_min))
        receipt = await call(link, message(6, "voice", "Hi"), Sink())
        assert await peer.wait() == 0, peer.log()
    finally:
        taken.close()
        peer.stop()
        sink_rtp.close()
    assert receipt.status == Status.DELIVERED and sink_rtp.packets
    assert f"m=audio {link.settings.rtp_port_min + 2} RTP/AVP" in peer.log()
    assert ports_free(link)


@needs_espeak
async def test_texts_too_long_to_speak_and_busy_lines(tmp_path: Path) -> None:
    _, port, transport = await silent_peer()
    link = connector(tmp_path, port, max_seconds=2, max_calls=1, invite_timeout=5)
    await link.start(Sink())
    try:
        estimated_long = message(7, "voice", "word " * 20)  # ~100 characters: > 2 s surely
        spoken_long = message(8, "voice", "1234567 7654321")  # short text, long speech
        first, second = message(9, "voice", "Hi"), message(10, "voice", "Hi")
        outcomes = await link.submit([estimated_long, spoken_long, first, second], NOW)
    finally:
        await link.stop()
        transport.close()
    assert isinstance(outcomes[0], Rejected) and (outcomes[0].error, outcomes[0].final) == (
        221,
        True,
    )
    assert isinstance(outcomes[1], Rejected) and (outcomes[1].error, outcomes[1].final) == (
        221,
        True,
    )
    assert isinstance(outcomes[2], Accepted)
    assert isinstance(outcomes[3], Rejected) and not outcomes[3].final  # waits for a line
    assert link.state().window_used == 0 and ports_free(link)  # stop() hung up, closed RTP


async def test_only_calls_go_over_sip(tmp_path: Path) -> None:
    _, port, transport = await silent_peer()
    link = connector(tmp_path, port, caller_pool="")
    await link.start(Sink())
    try:
        sms, flash = message(11, "sms", "hi"), message(12, "flashcall", "1234", "FLASHCALL")
        outcomes = await link.submit([sms, flash], NOW)
    finally:
        await link.stop()
        transport.close()
    assert [(o.error, o.final) for o in outcomes if isinstance(o, Rejected)] == [
        (213, True),
        (213, True),
    ]
    assert not link.state().bound


async def test_a_trunk_from_the_config_file(tmp_path: Path) -> None:
    from pilotgate import bootstrap, config
    from pilotgate.errors import ConfigError

    path = tmp_path / "pilotgate.toml"
    path.write_text(
        'speech_cache_dir = "cache"\nvoice_max_seconds = 30\n'
        '[[connector]]\nname = "trunk"\nkind = "sip"\nhost = "127.0.0.1"\nport = 5080\n'
        'transport = "tcp"\nregister = true\ncaller_pool = "7495"\n'
        '[[route]]\nprefix = "7"\nchannel = "voice"\nconnectors = ["trunk"]\n',
        encoding="utf-8",
    )
    settings = config.load({"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}, path)
    store = await bootstrap.open_store(settings)
    try:
        (row,) = [c for c in await store.connectors() if c.name == "trunk"]
        made = bootstrap.connector_factory(settings)(row)
        assert isinstance(made, SipConnector)
        s = made.settings
        assert (s.port, s.transport, s.register, s.max_seconds, s.cache_dir) == (
            5080, "tcp", True, 30.0, "cache",
        )  # fmt: skip
        assert (
            bootstrap.connector_factory(settings)(
                dataclasses.replace(row, settings='{"host": "h", "port": "x"}')
            )
            is None
        )  # a broken trunk is logged and left out; the others still start
    finally:
        await store.close()
    path.write_text('[[connector]]\nname = "t"\nkind = "sip"\nport = 5080\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="host"):
        await bootstrap.open_store(
            config.load({"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}, path)
        )


@needs_sipp
@needs_espeak
async def test_registration_and_digest_checked_by_sipp(tmp_path: Path) -> None:
    sink_rtp, rtp_port = await RtpSink.open()
    peer = Sipp("auth.xml", tmp_path, keys={"rtpport": str(rtp_port)}, calls=2)
    link = connector(tmp_path, peer.port, register=True, username="acme", password="s3cret")
    sink = Sink()
    try:
        await link.start(sink)
        assert not link.state().bound  # not before the trunk has taken the REGISTER
        await until_bound(link)
        (accepted,) = await link.submit([message(13, "voice", "Hi")], NOW)
        assert isinstance(accepted, Accepted)
        (receipt,) = await sink.wait()
        await link.stop()
        assert await peer.wait() == 0, peer.log()  # both credentials passed verifyauth
    finally:
        await link.stop()
        peer.stop()
        sink_rtp.close()
    assert (receipt.status, receipt.error) == (Status.DELIVERED, 0)
    log = peer.log()
    assert 'Authorization: Digest username="acme", realm="trunk.test"' in log
    assert 'nonce="n0nce2", uri="sip:79087964781@' in log and 'opaque="op4que"' in log
    assert sink_rtp.packets


@needs_sipp
@needs_espeak
async def test_a_call_over_tcp(tmp_path: Path) -> None:
    sink_rtp, rtp_port = await RtpSink.open()
    keys = {"rtpport": str(rtp_port), "codec": "0", "codecname": "PCMU"}
    peer = Sipp("answer.xml", tmp_path, keys=keys, transport="t1")
    link = connector(tmp_path, peer.port, transport="tcp")
    sink = Sink()
    try:
        await link.start(sink)  # SIPp may not listen yet: the link connects when it does
        await until_bound(link)
        assert isinstance((await link.submit([message(14, "voice", "Hi")], NOW))[0], Accepted)
        (receipt,) = await sink.wait()
        # SIPp counts a connection closed during its scenario as a failed call: close after.
        assert await peer.wait() == 0, peer.log()
    finally:
        await link.stop()
        peer.stop()
        sink_rtp.close()
    assert receipt.status == Status.DELIVERED and sink_rtp.packets
    assert "SIP/2.0/TCP 127.0.0.1" in peer.log()


async def test_an_answer_after_we_gave_up_is_acked_and_hung_up(tmp_path: Path) -> None:
    peer, port, transport = await silent_peer(late=1.5)
    link = connector(tmp_path, port, invite_timeout=1.0)
    sink = Sink()
    await link.start(sink)
    try:
        await link.submit([message(15, "flashcall", "1234", "FLASHCALL")], NOW)
        (receipt,) = await sink.wait()
        assert (receipt.status, receipt.error) == (Status.UNDELIVERED, 602)
        async with asyncio.timeout(10):
            await peer.acked_and_hung_up.wait()  # the trunk keeps no call we forgot
    finally:
        await link.stop()
        transport.close()


@needs_sipp
@needs_espeak
async def test_a_failure_inside_a_call_ends_it_undelivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> typing.Iterator[bytes]:
        raise RuntimeError("no audio today")

    monkeypatch.setattr(media, "packets", broken)
    sink_rtp, rtp_port = await RtpSink.open()
    keys = {"rtpport": str(rtp_port), "codec": "0", "codecname": "PCMU"}
    peer = Sipp("answer.xml", tmp_path, keys=keys)
    try:
        receipt = await call(connector(tmp_path, peer.port), message(16, "voice", "Hi"), Sink())
        assert await peer.wait() == 0, peer.log()  # hung up properly all the same
    finally:
        peer.stop()
        sink_rtp.close()
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, 601)
    assert not sink_rtp.packets


async def test_a_bug_in_a_call_is_logged_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pilotgate.connectors.sip import call as calls

    def broken(self: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(calls.Call, "invite", broken)
    _, port, transport = await silent_peer()
    try:
        link = connector(tmp_path, port)
        receipt = await call(link, message(17, "flashcall", "1234", "FLASHCALL"), Sink())
    finally:
        transport.close()
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, 601)
    assert "call" in caplog.text and "failed" in caplog.text
    assert ports_free(link)
