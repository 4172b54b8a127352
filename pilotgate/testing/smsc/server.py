"""An SMSC on 127.0.0.1 that can misbehave on purpose, for tests, benches and demos::

    async with SmscSimulator(behaviour="throttling") as smsc:      # listens on smsc.port
        ...                                                       # bind a link to it, submit
        await smsc.wait_submits(10)                               # 10 accepted submit_sm
        assert smsc.submits[0].short_message == b"Hello"
        await smsc.inject_mo("79990000001", "1000", "Привет")      # returns once answered

Behaviours (`Behaviour`, behaviour.py) are settable at any time; what it sends its ESMEs
(answers, receipts, MOs) is deliveries.py's.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from types import TracebackType

from . import codec
from .behaviour import (
    ESME_RINVBNDSTS,
    ESME_RINVCMDLEN,
    ESME_RMSGQFUL,
    ESME_RTHROTTLED,
    ESME_RX_T_APPN,
    Behaviour,
)
from .deliveries import Deliveries, Peer


class SmscSimulator(Deliveries):
    """See the module docstring. Every submit_sm is kept in `received` (in arrival order,
    with what was answered), the accepted ones also in `submits`."""

    def __init__(
        self,
        behaviour: Behaviour | str = Behaviour.HAPPY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        receipt_delay: float = 0.0,
        password: str | None = None,
    ) -> None:
        self.behaviour = Behaviour(behaviour)
        self.receipt_delay = receipt_delay
        self.port = port
        self._host, self._password = host, password
        self._server: asyncio.Server | None = None
        self._peers: list[Peer] = []
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._changed = asyncio.Condition()
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self.received: list[codec.SubmitSm] = []
        self.submits: list[codec.SubmitSm] = []
        self.binds = 0
        self.deliver_answers: list[int] = []  #: command_status of each deliver_sm_resp
        # Receipts not acknowledged yet, by deliver_sm sequence: like a real SMSC we keep
        # them and send them again to the next receiver that binds (a dropped connection
        # must not lose them).
        self._unacked: dict[int, tuple[codec.SubmitSm, str]] = {}
        self.commands: list[int] = []  #: command_id of every PDU received, in order

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for peer in self._peers:
            peer.writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        # Let every connection handler see its socket closed and end on its own.
        await asyncio.gather(*self._handlers, *self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, what: str, count: int, within: float = 10.0) -> None:
        """Wait until len(getattr(self, what)) >= count (or `binds` >= count)."""

        def enough() -> bool:
            value = getattr(self, what)
            return (value if isinstance(value, int) else len(value)) >= count

        await self.wait_until(enough, within)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until `predicate()` holds; it is checked after every PDU received."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_submits(self, count: int, within: float = 10.0) -> None:
        await self.wait_for("submits", count, within)

    def drop(self) -> None:
        """Close every connection at once, as a crashed SMSC would."""
        for peer in self._peers:
            peer.writer.transport.abort()

    def send_raw(self, data: bytes) -> None:
        """Write `data` as is to every bound peer (malformed PDUs for robustness tests)."""
        for peer in self._peers:
            peer.send(data)

    # -- one connection -------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(writer)
        self._peers.append(peer)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        buffer = b""
        try:
            while data := await reader.read(65536):
                buffer += data
                while len(buffer) >= 16:
                    length, command_id, status, sequence = codec.HEADER.unpack_from(buffer)
                    if len(buffer) < length:
                        break
                    body, buffer = buffer[16:length], buffer[length:]
                    if writer.is_closing():
                        return  # dropped on purpose: what was still buffered never arrived
                    self.commands.append(command_id)
                    await self._handle(peer, command_id, status, sequence, body)
                    await self._notify()
        except (ConnectionError, OSError):
            pass  # the client went away: that is its right
        finally:
            self._peers.remove(peer)
            self._handlers.discard(handler)
            writer.close()

    async def _handle(
        self, peer: Peer, command_id: int, status: int, sequence: int, body: bytes
    ) -> None:
        if command_id in (codec.BIND_TRANSCEIVER, codec.BIND_RECEIVER, codec.BIND_TRANSMITTER):
            await self._bind(peer, command_id, sequence, body)
        elif command_id == codec.ENQUIRE_LINK:
            peer.send(codec.pdu(codec.ENQUIRE_LINK | codec.RESP, sequence))
        elif command_id == codec.UNBIND:
            peer.send(codec.pdu(codec.UNBIND | codec.RESP, sequence))
        elif command_id == codec.DELIVER_SM | codec.RESP:
            self.deliver_answers.append(status)
            if status != ESME_RX_T_APPN:  # "try again later" keeps it for the next bind
                self._unacked.pop(sequence, None)
            waiting = self._waiting.pop(sequence, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(status)
            await self._notify()
        elif command_id == codec.SUBMIT_SM:
            await self._submit(peer, sequence, body)
        elif not command_id & codec.RESP:
            peer.send(codec.pdu(codec.GENERIC_NACK, sequence, status=0x03))

    async def _bind(self, peer: Peer, command_id: int, sequence: int, body: bytes) -> None:
        password = body.split(b"\x00")[1].decode("latin-1")
        if self._password is not None and password != self._password:
            peer.send(codec.pdu(command_id | codec.RESP, sequence, status=0x0E))
            return
        peer.receives = command_id != codec.BIND_TRANSMITTER
        peer.send(codec.pdu(command_id | codec.RESP, sequence, codec.cstring("SIM")))
        self.binds += 1
        if peer.receives and self._unacked:
            pending, self._unacked = list(self._unacked.values()), {}
            for submit, receipt_id in pending:
                self._send_receipt(submit, receipt_id, peer)
        await self._notify()
        if peer.receives and self.behaviour in (Behaviour.MO_SINGLE, Behaviour.MO_MULTIPART):
            self._spawn(self._bind_mo(peer))

    async def _submit(self, peer: Peer, sequence: int, body: bytes) -> None:
        try:
            submit = codec.parse_submit(sequence, body)
        except ValueError:
            peer.send(codec.pdu(codec.GENERIC_NACK, sequence, status=ESME_RINVCMDLEN))
            return
        peer.submits += 1
        behaviour = self.behaviour
        if peer.unbinding:
            self.received.append(submit)
            peer.send(codec.pdu(codec.SUBMIT_SM | codec.RESP, sequence, status=ESME_RINVBNDSTS))
        elif behaviour is Behaviour.NO_RESP:
            self.received.append(submit)
        elif behaviour is Behaviour.GENERIC_NACK:
            self.received.append(submit)
            peer.send(codec.pdu(codec.GENERIC_NACK, sequence, status=ESME_RINVCMDLEN))
        elif behaviour in (Behaviour.UNBIND_MID_WINDOW, Behaviour.DROP_TCP) and peer.submits == 3:
            self.received.append(submit)
            if behaviour is Behaviour.DROP_TCP:
                peer.writer.transport.abort()
            else:
                peer.unbinding = True
                peer.send(codec.pdu(codec.UNBIND, next(self._sequence)))
        elif behaviour in (Behaviour.THROTTLING, Behaviour.QUEUE_FULL) and peer.submits % 3 == 0:
            self.received.append(submit)
            refusal = ESME_RTHROTTLED if behaviour is Behaviour.THROTTLING else ESME_RMSGQFUL
            peer.send(codec.pdu(codec.SUBMIT_SM | codec.RESP, sequence, status=refusal))
        else:
            self._accept(peer, submit)
        await self._notify()
