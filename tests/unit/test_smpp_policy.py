"""Pure parts of the SMPP link: status verdicts, pacing, backoff, validity, framing, settings."""

from __future__ import annotations

import asyncio

import pytest

from pilotgate.connectors.smpp import SmppSettings, policy, wire
from pilotgate.connectors.smpp.session import LinkLostError, SmppSession
from pilotgate.domain.receipts import IdFormat
from pilotgate.domain.sms_encoding import Concat
from pilotgate.errors import ConfigError

V = policy.StatusVerdict


@pytest.mark.parametrize(
    ("status", "verdict", "error"),
    [
        (0x00, V.OK, 0),
        (0x58, V.THROTTLED, 0),
        (0x14, V.THROTTLED, 0),
        (0x08, V.TEMPORARY, 110),
        (0x04, V.TEMPORARY, 110),
        (0x0B, V.FINAL, 111),
        (0x0A, V.FINAL, 115),
        (0x02, V.FINAL, 603),
        (0x45, V.TEMPORARY, 110),
    ],
)
def test_classify(status, verdict, error):
    assert policy.classify(status) == (verdict, error)


def test_token_bucket_paces_to_the_rate():
    bucket = policy.Bucket(tokens=1.0, at=0.0)
    waits = []
    for _ in range(5):
        bucket, wait = policy.take(bucket, 0.0, rate=10.0, burst=1.0)
        waits.append(round(wait, 3))
    assert waits == [0.0, 0.1, 0.2, 0.3, 0.4]
    bucket, wait = policy.take(policy.Bucket(tokens=0.0, at=0.0), 10.0, rate=10.0, burst=2.0)
    assert wait == 0.0 and bucket.tokens == 1.0  # refilled, capped at the burst


def test_backoff_grows_to_the_cap_with_jitter():
    assert policy.backoff(0, 1.0, 60.0, jitter=1.0) == 1.0
    assert policy.backoff(3, 1.0, 60.0, jitter=1.0) == 8.0
    assert policy.backoff(50, 1.0, 60.0, jitter=1.0) == 60.0
    assert policy.backoff(3, 1.0, 60.0, jitter=0.0) == 4.0


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(90, "000000013000000R"), (1440, "000001000000000R"), (200 * 1440, "000620000000000R")],
)
def test_relative_validity(minutes, text):
    assert policy.relative_validity(minutes) == text


def test_framer_handles_a_pdu_byte_by_byte_and_refuses_4_gb():
    data = wire.pdu(wire.ENQUIRE_LINK, 7) + wire.pdu(wire.DELIVER_SM | wire.RESP, 8, b"\x00")
    framer, pdus = wire.PduFramer(), []
    for byte in data:
        pdus += framer.feed(bytes([byte]))
    assert [(p.command_id, p.sequence) for p in pdus] == [(0x15, 7), (0x80000005, 8)]
    with pytest.raises(wire.FramingError):
        wire.PduFramer().feed(bytes.fromhex("ffffffff000000040000000000000001"))
    with pytest.raises(wire.FramingError):
        wire.PduFramer().feed(bytes.fromhex("00000008000000040000000000000001"))


def test_settings_from_json():
    settings = SmppSettings.from_json(
        "op",
        '{"host": "h", "port": 2775, "system_id": "s", "password": "p", "concat": "sar",'
        ' "resp_id": "hex", "receipt_id": "dec", "bind": "tx+rx", "window": 50}',
        mps=100,
    )
    assert (settings.concat, settings.resp_id, settings.receipt_id) == (
        Concat.SAR,
        IdFormat.HEX,
        IdFormat.DEC,
    )
    assert (settings.mps, settings.window, settings.bind) == (100, 50, "tx+rx")


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("[1]", "JSON object"),
        ("{", "not JSON"),
        ('{"host": "h", "port": 1, "system_id": "s"}', "'password' is missing"),
        ('{"host": "h", "port": 1, "system_id": "s", "password": "p", "x": 1}', "unknown"),
        ('{"host": "h", "port": "1", "system_id": "s", "password": "p"}', "'port'"),
        ('{"host": "h", "port": 1, "system_id": "s", "password": "p", "bind": "rx"}', "'bind'"),
        ('{"host": "h", "port": 1, "system_id": "s", "password": "p", "window": 0}', "'window'"),
        ('{"host": "h", "port": 1, "system_id": "s", "password": "p", "concat": "x"}', "op:"),
    ],
)
def test_settings_errors_name_the_key(raw, complaint):
    with pytest.raises(ConfigError, match=complaint):
        SmppSettings.from_json("op", raw, mps=0)


class _ClosedWriter:
    """A writer whose transport closed before the reader noticed (as uvloop reports it)."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")


async def test_a_write_on_a_closed_transport_is_a_lost_link_not_a_crash() -> None:
    session = SmppSession(
        asyncio.StreamReader(),
        _ClosedWriter(),  # type: ignore[arg-type]
        on_deliver=lambda s, p: None,
        on_problem=lambda kind, text: None,
    )
    try:
        await session.request(lambda seq: b"", 1.0)
    except LinkLostError:
        pass
    else:
        raise AssertionError("a write on a closed transport must raise LinkLostError")
    assert session.closed.is_set()
    session.send(b"ignored")  # nothing raised: the link is already marked closed
