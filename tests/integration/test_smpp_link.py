"""SmppConnector over TCP on 127.0.0.1 against the SMSC simulator, behaviour by behaviour."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from pilotgate.connectors.base import Accepted, MobileOriginated, Rejected
from pilotgate.connectors.smpp import SmppConnector, SmppSettings
from pilotgate.domain import sms_encoding as enc, text as sms_text
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.receipts import Receipt
from pilotgate.errors import ConnectorError
from pilotgate.testing.smsc import Behaviour, SmscSimulator

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FakeEvents:
    """The pipeline's side, in memory: records what the link reports."""

    def __init__(self) -> None:
        self.got_receipts: list[Receipt] = []
        self.got_inbound: list[MobileOriginated] = []
        self.changed = asyncio.Condition()
        self.fail = False

    async def _record(self, into: list[Any], items) -> None:
        if self.fail:
            raise RuntimeError("database down")
        async with self.changed:
            into.extend(items)
            self.changed.notify_all()

    async def receipts(self, connector, receipts) -> None:
        await self._record(self.got_receipts, receipts)

    async def inbound(self, connector, messages) -> None:
        await self._record(self.got_inbound, messages)

    async def pending(self, connector: str, limit: int) -> list[str]:
        return []  # SMPP outcomes come as deliver_sm; the link never polls

    async def wait(self, what: str, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: len(getattr(self, what)) >= count)


def message(server_id: int, text: str = "Hello", **changes) -> Message:
    fields: dict[str, Any] = dict(
        server_id=server_id,
        packet_id=server_id,
        account_id=1,
        phone=f"7999{server_id:07d}",
        sender="INFORM",
        sender_orig="",
        text=text,
        parts=sms_text.count_parts(text),
        channel="sms",
        price=100,
        status=Status.ACCEPTED,
        error=0,
        send_datetime=None,
        ttl=None,
        callback=None,
        callback_method=None,
        created=NOW,
        modified=NOW,
        country="RU",
        operator="",
        test=False,
    )
    fields.update(changes)
    return Message(**fields)


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator() as simulator:
        yield simulator


@pytest.fixture
def events() -> FakeEvents:
    return FakeEvents()


@pytest.fixture
async def connect(smsc, events) -> AsyncIterator[Callable[..., Awaitable[SmppConnector]]]:
    links: list[SmppConnector] = []

    async def make(**overrides) -> SmppConnector:
        settings = SmppSettings(
            name="smsc",
            host="127.0.0.1",
            port=smsc.port,
            system_id="pilotgate",
            password="pw",
            throttle_pause=0.01,
            reconnect_base=0.01,
            reconnect_cap=0.05,
            response_timeout=5.0,
            drain_timeout=1.0,
        )
        link = SmppConnector(dataclasses.replace(settings, **overrides))
        links.append(link)
        await link.start(events)
        async with asyncio.timeout(10):
            await link.wait_bound()
        return link

    yield make
    for link in links:
        await link.stop()


def parts_of(submits) -> list[str]:
    """Reassemble what the simulator received, with the domain's MO decoder."""
    joined, texts = enc.Reassembler(), []
    for submit in submits:
        fragment = enc.parse_mo(
            submit.short_message, submit.data_coding, submit.esm_class, submit.tlvs.items()
        )
        assert not fragment.lossy
        whole = joined.add(submit.source, submit.destination, fragment, 0.0)
        if whole is not None:
            texts.append(whole)
    return texts


async def test_happy_path_accepts_and_reports_every_receipt(smsc, events, connect):
    link = await connect()
    outcomes = await link.submit([message(i) for i in range(1, 21)], NOW)
    assert all(isinstance(o, Accepted) for o in outcomes)
    assert sorted(o.server_id for o in outcomes) == list(range(1, 21))
    await events.wait("got_receipts", 20)
    ids = {o.remote_id for o in outcomes if isinstance(o, Accepted)}
    assert {r.remote_id for r in events.got_receipts} == ids
    assert all(r.status is Status.DELIVERED for r in events.got_receipts)
    assert len(smsc.submits) == 20
    state = link.state()
    assert state.bound and state.submitted == 20 and state.window == 10


async def test_submit_without_a_bind_raises(smsc):
    link = SmppConnector(
        SmppSettings(name="x", host="127.0.0.1", port=smsc.port, system_id="a", password="b")
    )
    with pytest.raises(ConnectorError):
        await link.submit([message(1)], NOW)


ROUND_TRIP = [
    ("Hello, world!", 0x00, b"Hello, world!"),
    ("Привет, мир", 0x08, "Привет, мир".encode("utf-16-be")),
    (
        "€ [ ] { } ^ ~ \\ |",
        0x00,
        bytes.fromhex("1b65201b3c201b3e201b28201b29201b14201b3d201b2f201b40"),
    ),
    ("hi 😀", 0x08, bytes.fromhex("006800690020d83dde00")),
]


@pytest.mark.parametrize(("text", "coding", "wire"), ROUND_TRIP)
async def test_text_reaches_the_smsc_byte_exact(smsc, connect, text, coding, wire):
    link = await connect()
    [outcome] = await link.submit([message(1, text, ttl=90)], NOW)
    assert isinstance(outcome, Accepted)
    [got] = smsc.submits
    assert (got.data_coding, got.esm_class, got.short_message) == (coding, 0, wire)
    assert (got.source, got.source_ton, got.source_npi) == ("INFORM", 5, 0)
    assert (got.destination, got.dest_ton, got.dest_npi) == ("79990000001", 1, 1)
    assert got.registered_delivery == 1 and got.protocol_id == 0
    assert got.validity == "000000013000000R"  # 90 minutes, relative


async def test_numeric_sender_default_validity_and_ping(smsc, connect):
    link = await connect(validity=60)
    await link.submit([message(1, sender="79001234567"), message(2, "PING", channel="ping")], NOW)
    by_phone = {s.destination: s for s in smsc.submits}
    numeric, ping = by_phone["79990000001"], by_phone["79990000002"]
    assert (numeric.source_ton, numeric.source_npi, numeric.validity) == (1, 1, "000000010000000R")
    assert (ping.protocol_id, ping.registered_delivery, ping.short_message) == (0x40, 1, b"")


LONG = ["Latin " * 60, "Кириллица " * 30, "€[]{}^~\\| " * 30, "😀 emoji " * 30]


@pytest.mark.parametrize("concat", ["udh", "udh16", "sar", "payload"])
@pytest.mark.parametrize("text", LONG)
async def test_long_messages_in_every_concat_mode(smsc, connect, concat, text):
    link = await connect(concat=enc.Concat(concat))
    [outcome] = await link.submit([message(1, text)], NOW)
    assert isinstance(outcome, Accepted)
    expected_parts = 1 if concat == "payload" else sms_text.count_parts(text)
    assert len(smsc.submits) == len(outcome.remote_ids) == expected_parts
    assert outcome.remote_ids == tuple(s.message_id for s in smsc.submits)
    assert parts_of(smsc.submits) == [text]
    if concat in ("udh", "udh16"):
        assert all(s.esm_class == 0x40 for s in smsc.submits)


async def test_gsm_packed_long_message(smsc, connect):
    link = await connect(gsm_packed=True)
    text = "packed " * 40
    await link.submit([message(1, text)], NOW)
    joined = enc.Reassembler()
    out = [
        joined.add("p", "n", enc.parse_mo(s.short_message, 0, s.esm_class, (), packed=True), 0)
        for s in smsc.submits
    ]
    assert out[-1] == text and all(len(s.short_message) <= 140 for s in smsc.submits)


@pytest.mark.parametrize("behaviour", [Behaviour.THROTTLING, Behaviour.QUEUE_FULL])
async def test_throttling_resubmits_without_loss_duplicates_or_reordering(
    smsc, events, connect, behaviour
):
    smsc.behaviour = behaviour
    link = await connect(window=10)
    messages = [message(i, f"message {i} " + "x" * (200 if i % 2 else 10)) for i in range(1, 31)]
    outcomes = await link.submit(messages, NOW)
    assert all(isinstance(o, Accepted) for o in outcomes)
    assert link.state().detail["throttled"] != "0"
    assert sorted(parts_of(smsc.submits)) == sorted(m.text for m in messages)
    for m in messages:  # each message's parts reached the SMSC once each, in order
        seqs = [
            s.short_message[5] for s in smsc.submits if s.destination == m.phone and s.esm_class
        ]
        assert seqs == sorted(set(seqs))
    await events.wait("got_receipts", len(smsc.submits))


async def test_no_response_goes_back_to_the_queue(smsc, connect):
    smsc.behaviour = Behaviour.NO_RESP
    link = await connect(response_timeout=0.2)
    outcomes = await link.submit([message(1), message(2)], NOW)
    assert all(isinstance(o, Rejected) and not o.final for o in outcomes)
    assert link.state().window_used == 0


async def test_generic_nack_is_a_final_error(smsc, connect):
    smsc.behaviour = Behaviour.GENERIC_NACK
    link = await connect()
    [outcome] = await link.submit([message(1)], NOW)
    assert isinstance(outcome, Rejected) and outcome.final and outcome.error == 603


@pytest.mark.parametrize("behaviour", [Behaviour.UNBIND_MID_WINDOW, Behaviour.DROP_TCP])
async def test_link_loss_mid_window_loses_nothing(smsc, connect, behaviour):
    smsc.behaviour = behaviour
    link = await connect(window=10)
    messages = [message(i) for i in range(1, 11)]
    outcomes = await link.submit(messages, NOW)
    retry = [m for m, o in zip(messages, outcomes, strict=True) if isinstance(o, Rejected)]
    assert retry and all(not o.final for o in outcomes if isinstance(o, Rejected))
    await smsc.wait_for("binds", 2)
    async with asyncio.timeout(10):
        await link.wait_bound()
    smsc.behaviour = Behaviour.HAPPY
    again = await link.submit(retry, NOW)
    assert all(isinstance(o, Accepted) for o in again)
    accepted = sorted(s.destination for s in smsc.submits)
    assert accepted == sorted(m.phone for m in messages)  # each accepted exactly once


async def test_receipt_before_the_submit_sm_resp_is_reported(smsc, events, connect):
    smsc.behaviour = Behaviour.RECEIPTS_EARLY
    link = await connect()
    [outcome] = await link.submit([message(1)], NOW)
    await events.wait("got_receipts", 1)
    assert isinstance(outcome, Accepted)
    assert events.got_receipts[0].remote_id == outcome.remote_id


async def test_duplicated_receipts_are_passed_on_with_the_same_id(smsc, events, connect):
    smsc.behaviour = Behaviour.RECEIPTS_DUPLICATED
    link = await connect()
    [outcome] = await link.submit([message(1)], NOW)
    await events.wait("got_receipts", 2)
    assert {r.remote_id for r in events.got_receipts} == {outcome.remote_id}


async def test_receipts_never_leave_the_message_handed_over(smsc, events, connect):
    smsc.behaviour = Behaviour.RECEIPTS_NEVER
    link = await connect()
    [outcome] = await link.submit([message(1)], NOW)
    assert isinstance(outcome, Accepted) and outcome.outcome_status is None
    await link.stop()
    assert events.got_receipts == []


async def test_hex_receipt_ids_match_decimal_response_ids(smsc, events, connect):
    smsc.behaviour = Behaviour.RECEIPTS_HEX_IDS
    link = await connect(resp_id="dec", receipt_id="hex")
    outcomes = await link.submit([message(i) for i in range(1, 21)], NOW)
    await events.wait("got_receipts", 20)
    assert {r.remote_id for r in events.got_receipts} == {o.remote_id for o in outcomes}


@pytest.mark.parametrize(
    ("behaviour", "error"), [(Behaviour.UNDELIV, 601), (Behaviour.EXPIRED, 600)]
)
async def test_failed_receipts(smsc, events, connect, behaviour, error):
    smsc.behaviour = behaviour
    link = await connect()
    await link.submit([message(1)], NOW)
    await events.wait("got_receipts", 1)
    [receipt] = events.got_receipts
    assert (receipt.status, receipt.error) == (Status.UNDELIVERED, error)


@pytest.mark.parametrize(
    ("behaviour", "text"),
    [(Behaviour.MO_SINGLE, "Привет"), (Behaviour.MO_MULTIPART, "Hello, long world")],
)
async def test_mo_behaviours(smsc, events, connect, behaviour, text):
    smsc.behaviour = behaviour
    await connect()
    await events.wait("got_inbound", 1)
    [mo] = events.got_inbound
    assert (mo.phone, mo.number, mo.text) == ("79990000001", "1000", text)


async def test_mo_sar_reassembly_and_bad_mo_survive(smsc, events, connect):
    link = await connect()
    for seq, chunk in ((2, "world"), (1, "hello ")):
        sar = {0x020C: b"\x00\x07", 0x020E: b"\x02", 0x020F: bytes([seq])}
        assert await smsc.inject_mo("79990000002", "1000", chunk.encode(), tlvs=sar) == 0
    assert await smsc.inject_mo("79990000003", "1000", b"\x09\x00\x03", esm_class=0x40) == 0
    assert await smsc.inject_mo("79990000004", "1000", b"\xd8\x3d", data_coding=8) == 0
    await events.wait("got_inbound", 3)
    assert events.got_inbound[0].text == "hello world"
    assert "\ufffd" in events.got_inbound[2].text
    assert link.state().detail["problem.mo"] == "2"  # counted, logged once


async def test_pipeline_failure_answers_a_temporary_error(smsc, events, connect):
    await connect()
    events.fail = True
    status = await smsc.inject_mo("79990000002", "1000", b"hi")
    assert status == 0x64  # ESME_RX_T_APPN: the SMSC sends it again later


async def test_transmitter_receiver_pair(smsc, events, connect):
    link = await connect(bind="tx+rx")
    assert smsc.binds == 2
    outcomes = await link.submit([message(1), message(2)], NOW)
    await events.wait("got_receipts", 2)
    assert {r.remote_id for r in events.got_receipts} == {o.remote_id for o in outcomes}


async def test_bad_input_from_the_smsc(smsc, events, connect):
    link = await connect()
    # An unknown TLV and a receipt for an id we never sent: reported, link unharmed.
    tlvs = {0x1401: b"vendor", 0x001E: b"nobody\x00", 0x0427: b"\x02"}
    assert await smsc.inject_mo("7999", "1000", b"", esm_class=0x04, tlvs=tlvs) == 0
    await events.wait("got_receipts", 1)
    assert events.got_receipts[0].remote_id == "nobody"
    # A deliver_sm whose body is garbage: refused for good, the link stays.
    smsc.send_raw(bytes.fromhex("00000014 00000005 00000000 0000beef ffffffff"))
    # A command we do not know: generic_nack.
    smsc.send_raw(bytes.fromhex("00000010 00000103 00000000 0000bef0"))
    await smsc.wait_for("deliver_answers", 2)
    await smsc.wait_for("commands", 4)
    assert 0x80000000 in smsc.commands
    assert (await link.submit([message(1)], NOW))[0].server_id == 1
    # command_length of 4 GB: the stream is unreadable; the link reconnects, nothing is lost.
    smsc.send_raw(bytes.fromhex("ffffffff 00000005 00000000 00000001"))
    await smsc.wait_for("binds", 2)
    async with asyncio.timeout(10):
        await link.wait_bound()
    [outcome] = await link.submit([message(2)], NOW)
    assert isinstance(outcome, Accepted)
    assert link.state().detail["problem.framing"] == "1"


async def test_stop_drains_and_unbinds(smsc, connect):
    link = await connect()
    await link.submit([message(1)], NOW)
    await link.stop()
    assert 0x00000006 in smsc.commands  # unbind
    assert not link.state().bound
    with pytest.raises(ConnectorError):
        await link.submit([message(2)], NOW)


async def test_reconnects_after_the_smsc_drops(smsc, connect):
    link = await connect()
    smsc.drop()
    await smsc.wait_for("binds", 2)
    async with asyncio.timeout(10):
        await link.wait_bound()
    assert isinstance((await link.submit([message(1)], NOW))[0], Accepted)


async def test_enquire_link_both_ways(smsc, connect):
    await connect(enquire_link=0.02)
    await smsc.wait_until(lambda: smsc.commands.count(0x15) >= 2)  # ours, answered
    smsc.send_raw(bytes.fromhex("00000010 00000015 00000000 00000777"))
    await smsc.wait_until(lambda: 0x80000015 in smsc.commands)  # theirs, answered


async def test_messages_per_second_limit(smsc, connect):
    link = await connect(mps=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await link.submit([message(i) for i in range(1, 31)], NOW)
    # 30 PDUs at 100/s with a burst of 10 cannot take less than 0.2 s.
    assert loop.time() - started >= 0.19


async def test_stop_waits_for_the_window_to_drain(smsc, connect):
    smsc.behaviour = Behaviour.NO_RESP
    link = await connect(response_timeout=5.0, drain_timeout=0.1)
    pending = asyncio.ensure_future(link.submit([message(1)], NOW))
    await smsc.wait_for("received", 1)
    await link.stop()  # bounded by drain_timeout, then the connection goes
    [outcome] = await pending
    assert isinstance(outcome, Rejected) and not outcome.final
    assert link.state().detail["problem.drain"] == "1"


async def test_a_completed_long_mo_is_given_again_when_storing_it_failed(smsc, events, connect):
    await connect()
    udh = lambda seq: bytes([5, 0, 3, 9, 2, seq])  # noqa: E731
    assert await smsc.inject_mo("+79990000005", "1000", udh(1) + b"ab", esm_class=0x40) == 0
    events.fail = True
    assert await smsc.inject_mo("+79990000005", "1000", udh(2) + b"cd", esm_class=0x40) == 0x64
    events.fail = False  # the SMSC sends the refused part again
    assert await smsc.inject_mo("+79990000005", "1000", udh(2) + b"cd", esm_class=0x40) == 0
    [mo] = events.got_inbound
    assert (mo.phone, mo.text) == ("79990000005", "abcd")


async def test_a_refused_bind_is_retried_and_counted():
    async with SmscSimulator(password="right") as smsc:
        settings = SmppSettings(
            name="x", host="127.0.0.1", port=smsc.port, system_id="a", password="wrong",
            reconnect_base=0.01, reconnect_cap=0.02,
        )  # fmt: skip
        link = SmppConnector(settings)
        await link.start(FakeEvents())
        await smsc.wait_until(lambda: smsc.commands.count(0x09) >= 3)  # it keeps trying
        assert not link.state().bound and link.state().detail["problem.connect"] != "0"
        await link.stop()
