"""One TCP connection to the SMSC: sequence numbers, requests awaiting their response,
answers to what the SMSC asks (enquire_link, unbind), and a keep-alive. The link above
decides what to send and what deliver_sm means; this only moves PDUs.

Every PDU of an event-loop turn goes out in one write: a hand-over sends a window of
submit_sm at once and receipts are answered in bursts, and one send(2) per PDU was a large
part of the link's cost (docs/performance.md "SMPP server")."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from . import wire

ESME_RINVCMDID = 0x03


class LinkLostError(ConnectionError):
    """The connection closed while a request waited for its response."""


class SmppSession:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        on_deliver: Callable[[SmppSession, wire.Pdu], None],
        on_problem: Callable[[str, str], None],
    ) -> None:
        self._reader, self._writer = reader, writer
        self._on_deliver, self._on_problem = on_deliver, on_problem
        self._pending: dict[int, asyncio.Future[wire.Pdu]] = {}
        self._sequence = itertools.count(1)
        self.closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._out: list[bytes] = []  # this turn's PDUs, written by _flush

    def start(self, keepalive: float, wait: float) -> None:
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._keepalive(keepalive, wait)),
        ]

    def send(self, data: bytes) -> None:
        if not self.closed.is_set():
            self._out.append(data)
            if len(self._out) == 1:
                asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        # Not `closed`: an unbind_resp queued just before the unbind closed the session goes.
        if not self._out:
            return
        data, self._out = b"".join(self._out), []
        try:
            self._writer.write(data)
        except (RuntimeError, OSError):
            # The transport closed under us (uvloop raises RuntimeError, asyncio may
            # raise OSError) before the reader noticed: the link reconnects, and the
            # requests waiting for an answer hear that the connection is lost.
            self.closed.set()
            self._fail_pending()

    async def request(self, build: Callable[[int], bytes], wait: float) -> wire.Pdu:
        """Send the PDU `build(sequence)` and wait for its response (or generic_nack)."""
        if self.closed.is_set():
            raise LinkLostError("not connected")
        sequence = next(self._sequence) & 0x7FFFFFFF or next(self._sequence)
        future: asyncio.Future[wire.Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            self.send(build(sequence))
            async with asyncio.timeout(wait):
                return await future
        finally:
            self._pending.pop(sequence, None)

    async def close(self) -> None:
        self._flush()  # an unbind or a last answer still goes
        self.closed.set()
        for task in self._tasks:
            task.cancel()
        self._fail_pending()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass  # the peer is already gone: closing is all we wanted

    async def _read(self) -> None:
        framer = wire.PduFramer()
        try:
            while data := await self._reader.read(65536):
                for pdu in framer.feed(data):
                    self._dispatch(pdu)
        except wire.FramingError as error:
            # The stream cannot be resynchronised: drop the connection, the link reconnects.
            self._on_problem("framing", f"unreadable PDU stream ({error}); reconnecting")
        except OSError as error:
            self._on_problem("read", f"connection error: {error!r}")
        finally:
            self.closed.set()
            self._fail_pending()

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkLostError("connection closed"))

    def _dispatch(self, pdu: wire.Pdu) -> None:
        if pdu.command_id & wire.RESP:
            future = self._pending.get(pdu.sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
            elif pdu.command_id == wire.GENERIC_NACK:
                self._on_problem("nack", f"generic_nack 0x{pdu.status:08x} for nothing we sent")
            else:
                self._on_problem("late", "a response for a request we no longer wait for")
        elif pdu.command_id == wire.DELIVER_SM:
            self._on_deliver(self, pdu)
        elif pdu.command_id == wire.ENQUIRE_LINK:
            self.send(wire.pdu(wire.ENQUIRE_LINK | wire.RESP, pdu.sequence))
        elif pdu.command_id == wire.UNBIND:
            self.send(wire.pdu(wire.UNBIND | wire.RESP, pdu.sequence))
            self.closed.set()
        else:
            self._on_problem("command", f"unexpected command 0x{pdu.command_id:08x}")
            self.send(wire.pdu(wire.GENERIC_NACK, pdu.sequence, status=ESME_RINVCMDID))

    async def _keepalive(self, interval: float, wait: float) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(interval)
            try:
                await self.request(lambda seq: wire.pdu(wire.ENQUIRE_LINK, seq), wait)
            except (TimeoutError, LinkLostError):
                self._on_problem("keepalive", "enquire_link unanswered; reconnecting")
                self.closed.set()
