"""Fuzzing the SMPP server's PDU reader: random bytes, valid PDUs mutated and truncated, and
huge lengths, fed to a session as one TCP stream. Whatever comes in, the session ends
without an exception and everything it wrote is whole PDUs a client can frame."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import smpp34
from hypothesis import HealthCheck, given, settings, strategies as st

from pilotgate.api.smpp import SmppServerSettings
from pilotgate.api.smpp.limits import AccountLimits
from pilotgate.api.smpp.session import CustomerSession
from pilotgate.domain import smpp_pdu as p
from pilotgate.errors import ApiError

ANSWERS = {p.GENERIC_NACK, p.ENQUIRE_LINK, p.UNBIND}


class _Transport:
    def __init__(self) -> None:
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.closing = True


class _Writer:
    """What the session writes to, kept in memory."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.transport.closing = True

    async def wait_closed(self) -> None:
        return None

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else None


class _Gateway:
    """Accepts every bind and every message: the reader is under test, not the rules."""

    def __init__(self) -> None:
        self.sent = 0

    def clock(self) -> datetime:
        return datetime.now(UTC)

    async def authenticate_smpp(self, system_id: str, password: str, ip: str) -> Any:
        return SimpleNamespace(id=1)

    async def smpp_account(self, account_id: int) -> Any:
        return SimpleNamespace(id=account_id)

    async def send(self, account: Any, request: Any) -> Any:
        self.sent += 1
        return SimpleNamespace(items=[(self.sent, None)])

    async def check(self, account: Any, ids: Any) -> dict[int, Any]:
        return {}

    async def cancel(self, account: Any, server_id: int) -> Any:
        raise ApiError(302)

    async def smpp_limits(self, account_id: int) -> tuple[None, None]:
        return None, None

    async def hold_smpp_bind(self, *args: Any, **kwargs: Any) -> int:
        return 1

    async def release_smpp_bind(self, bind_id: int) -> None:
        return None

    async def smpp_bind_owners(self, account_id: int) -> int:
        return 1

    # Receipts and inbound SMS: nothing is ever owed to the binds here.
    async def claim_deliveries(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    async def deliveries_answered(self, *args: Any) -> int:
        return 0

    async def deliveries_refused(self, *args: Any) -> int:
        return 0

    async def deliveries_returned(self, *args: Any) -> int:
        return 0


def _bind() -> bytes:
    body = p.cstring("shop") + p.cstring("secret") + p.cstring("") + b"\x34\x00\x00\x00"
    return p.pdu(p.BIND_TRANSCEIVER, 1, body)


def _submit(text: bytes, coding: int, esm: int, sequence: int) -> bytes:
    return bytes(
        smpp34.SubmitSm(
            "INFORM",
            "79087964781",
            text,
            data_coding=coding,
            esm_class=esm,
            sequence_number=sequence,
        ).encode()
    )


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


async def _feed(stream: bytes) -> bytes:
    reader = asyncio.StreamReader()
    reader.feed_data(stream)
    reader.feed_eof()
    writer = _Writer()
    gateway = _Gateway()
    settings = SmppServerSettings(max_pdu=4096, part_wait=0.0)
    session = CustomerSession(
        reader,
        writer,  # type: ignore[arg-type]
        gateway,  # type: ignore[arg-type]
        settings,
        AccountLimits(gateway, settings.limits),  # type: ignore[arg-type]
    )
    errors = _Errors()
    logging.getLogger("pilotgate.api.smpp").addHandler(errors)
    try:
        await asyncio.wait_for(session.run(), 10)
        # The submits still in flight finish (the stub answers at once; parts of a long
        # message left incomplete are answered when they expire).
        if session._submitter is not None:
            session._submitter.expire()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending), 10)
    finally:
        logging.getLogger("pilotgate.api.smpp").removeHandler(errors)
    assert errors.seen == []
    return bytes(writer.data)


def _check(written: bytes) -> None:
    framer = p.PduFramer()
    for pdu in framer.feed(written):
        assert pdu.command_id & p.RESP or pdu.command_id in ANSWERS
    assert framer.pending == 0


valid_pdus = st.one_of(
    st.builds(
        _submit,
        st.binary(max_size=200),
        st.sampled_from([0, 1, 3, 4, 8, 0xF5]),
        st.sampled_from([0, 0x40]),
        st.integers(1, 0x7FFFFFFF),
    ),
    st.builds(lambda s: p.pdu(p.ENQUIRE_LINK, s), st.integers(0, 2**32 - 1)),
    st.builds(lambda s: p.pdu(p.UNBIND, s), st.integers(0, 2**32 - 1)),
    st.just(_bind()),
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid bind, then PDUs with bytes flipped, cut short, or lengths made huge."""
    parts = [_bind()]
    for pdu in draw(st.lists(valid_pdus, max_size=6)):
        damage = draw(st.sampled_from(["none", "flip", "truncate", "length"]))
        data = bytearray(pdu)
        if damage == "flip":
            for _ in range(draw(st.integers(1, 4))):
                at = draw(st.integers(0, len(data) - 1))
                data[at] = draw(st.integers(0, 255))
        elif damage == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif damage == "length":
            data[:4] = draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big")
        parts.append(bytes(data))
    return b"".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=600), mutated()))
def test_no_stream_crashes_the_session(stream):
    _check(asyncio.run(_feed(stream)))
