"""One customer's SMPP connection: a state machine over the PDUs it sends (the tables below),
keep-alive both ways, and the guards that keep one client from hurting the others.

- Framing: a command_length under 16 or over `max_pdu` is answered generic_nack
  ESME_RINVCMDLEN and the connection closed; nothing after it can be trusted.
- Time: a connection that has not bound within `bind_seconds`, or has sent nothing for
  `dead_seconds` (our enquire_link every `enquire_seconds` of quiet went unanswered), is
  closed.
- Window: at most `window` requests in flight; a send past it is answered ESME_RTHROTTLED
  at once.
- Limits per account (limits.py): a bind past the account's ceiling (counted across
  processes) is refused ESME_RBINDFAIL; a send past its messages per second, ESME_RTHROTTLED.
- A client that does not read its answers: past `write_buffer` bytes waiting, closed.
- Writes: every PDU of an event-loop turn goes out in one write (outgoing.py).
Each connection is its own task; a bind's password check waits in the gateway's bounded pool.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
from collections.abc import Coroutine
from typing import Any

from pilotgate.domain import smpp_pdu as p, smpp_rules as rules
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics

from . import binds, cancels, codec, multi, replace
from .deliveries import DeliveryPump
from .limits import AccountLimits
from .outgoing import Outgoing
from .settings import SmppServerSettings
from .submits import Submitter

log = logging.getLogger(__name__)


class BindState(enum.Enum):
    OPEN = "open"
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"


BOUND_AS = {
    p.BIND_TRANSMITTER: BindState.TRANSMITTER,
    p.BIND_RECEIVER: BindState.RECEIVER,
    p.BIND_TRANSCEIVER: BindState.TRANSCEIVER,
}
#: What each state accepts; anything else that has a response is answered with the
#: command_status of REFUSED (ESME_RINVBNDSTS by default), the rest with generic_nack.
ACCEPTS: dict[BindState, frozenset[int]] = {
    BindState.OPEN: frozenset({*p.BINDS, p.ENQUIRE_LINK, p.UNBIND}),
    BindState.TRANSMITTER: frozenset({*p.SENDS, p.ENQUIRE_LINK, p.UNBIND}),
    BindState.RECEIVER: frozenset({p.ENQUIRE_LINK, p.UNBIND}),
    BindState.TRANSCEIVER: frozenset({*p.SENDS, p.ENQUIRE_LINK, p.UNBIND}),
}
REFUSED = {p.BIND_TRANSMITTER: rules.ESME_RALYBND, p.BIND_RECEIVER: rules.ESME_RALYBND}
REFUSED[p.BIND_TRANSCEIVER] = rules.ESME_RALYBND
#: Commands of SMPP 3.4 an ESME may not send us (deliver_sm is the SMSC's): answered with
#: their own response and ESME_RINVCMDID, as the protocol wants for a known command.
NOT_SERVED = frozenset({p.DELIVER_SM})
#: What a transmitter or transceiver asks about its messages (cancels.py, replace.py),
#: answered in their own task like a submit_sm.
ASKS = {p.QUERY_SM: cancels.query, p.CANCEL_SM: cancels.cancel, p.REPLACE_SM: replace.replace}
#: Sends besides submit_sm (multi.py): in the window like it, through the same Submitter.
SENDS_TOO = {p.DATA_SM: multi.data, p.SUBMIT_MULTI: multi.multi}


class CustomerSession:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        gateway: Gateway,
        settings: SmppServerSettings,
        limits: AccountLimits,
        client: str | None = None,
    ) -> None:
        self._reader, self._writer = reader, writer
        self._limits, self._bind_id = limits, 0
        self._gateway, self._settings = gateway, settings
        self.state = BindState.OPEN
        self.account_id: int | None = None
        peer = writer.get_extra_info("peername")
        #: The client's address: the peer's, or the one its trusted proxy named.
        self.address = client or (str(peer[0]) if isinstance(peer, tuple) else "")
        self._loop = asyncio.get_running_loop()
        self._opened = self._heard = self._loop.time()
        self._sequence = itertools.count(1)
        self._submits: set[asyncio.Task[None]] = set()
        self._accepted = 0  # sends past the window and the rate, since the bind
        self._submitter: Submitter | None = None
        self.deliveries: DeliveryPump | None = None
        self.closed = asyncio.Event()
        self._out = Outgoing(
            writer, limit=settings.write_buffer, on_stuck=self.closed.set, address=self.address
        )

    async def run(self) -> None:
        keeper = asyncio.create_task(self._keepalive())
        framer = p.PduFramer(self._settings.max_pdu)
        try:
            while not self.closed.is_set() and (data := await self._reader.read(65536)):
                self._heard = self._loop.time()
                try:
                    pdus = framer.feed(data)
                except p.FramingError as error:
                    log.info("SMPP %s: %s; closing", self.address, error)
                    self.send(codec.generic_nack(0, rules.ESME_RINVCMDLEN))
                    break
                for pdu in pdus:
                    await self._dispatch(pdu)
                    if self.closed.is_set():
                        break
        except OSError:
            pass  # the client went away: nothing to answer
        finally:
            keeper.cancel()
            await self.close()

    def send(self, data: bytes) -> None:
        self._out.write(data)

    async def close(self) -> None:
        """Close the connection (the submits in flight still commit; their answers are lost
        with it, as with any connection that drops before its answers)."""
        self.closed.set()
        if self.deliveries is not None:
            pump, self.deliveries = self.deliveries, None
            await pump.stop()
        await self._release_bind()
        self._out.flush()  # the last answers (unbind_resp, a refused bind_resp) still go
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass  # already gone

    async def _release_bind(self) -> None:
        if self._bind_id and self.account_id is not None:
            bind_id, self._bind_id = self._bind_id, 0
            await self._limits.release(self.account_id, bind_id)

    async def unbind(self) -> None:
        """Our side ends the session (the gateway stops): answer what is in flight, unbind."""
        if self._submits:
            await asyncio.wait(self._submits, timeout=5.0)
        self.send(p.pdu(p.UNBIND, next(self._sequence)))
        await self.close()

    async def _dispatch(self, pdu: p.Pdu) -> None:
        command = pdu.command_id
        if command & p.RESP:
            if self.deliveries is not None:  # it may answer one of our deliver_sm
                self.deliveries.answered(pdu)
            return  # enquire_link_resp, unbind_resp: hearing them is enough
        if command not in ACCEPTS[self.state]:
            if command in REFUSED or command in p.SENDS:
                status = REFUSED.get(command, rules.ESME_RINVBNDSTS)
                self.send(p.pdu(command | p.RESP, pdu.sequence, status=status))
            elif command in NOT_SERVED:
                self.send(p.pdu(command | p.RESP, pdu.sequence, status=rules.ESME_RINVCMDID))
            else:
                self.send(codec.generic_nack(pdu.sequence, rules.ESME_RINVCMDID))
        elif command in p.BINDS:
            await self._bind(pdu)
        elif command == p.ENQUIRE_LINK:
            self.send(p.pdu(p.ENQUIRE_LINK | p.RESP, pdu.sequence))
        elif command == p.UNBIND:
            if self._submits:
                await asyncio.wait(self._submits)
            if self.deliveries is not None:  # its answers recorded before ours
                pump, self.deliveries = self.deliveries, None
                await pump.stop()
            await self._release_bind()  # free before the client hears it is unbound
            self.send(p.pdu(p.UNBIND | p.RESP, pdu.sequence))
            await self.close()
        elif command in ASKS:
            failed = p.pdu(command | p.RESP, pdu.sequence, status=rules.ESME_RSYSERR)
            self._track(ASKS[command](self._gateway, self._bound_account(), pdu), failed)
        else:
            self._submit(pdu)

    async def _bind(self, pdu: p.Pdu) -> None:
        try:
            request = codec.bind_request(pdu.body)
        except ValueError:
            self.send(codec.generic_nack(pdu.sequence, rules.ESME_RINVCMDLEN))
            return
        admitted = await binds.admit(
            self._gateway,
            self._limits,
            request,
            bind_type=BOUND_AS[pdu.command_id].value,
            address=self.address,
            use=self._use,
        )
        if isinstance(admitted, int):
            self.send(codec.bind_resp(pdu.command_id, pdu.sequence, admitted))
            await self.close()
            return
        account_id, bind_id = admitted.account_id, admitted.bind_id
        self._bind_id = bind_id
        self.state, self.account_id = BOUND_AS[pdu.command_id], account_id
        self._submitter = Submitter(
            self._gateway,
            account_id,
            part_wait=self._settings.part_wait,
            clock=self._loop.time,
            source=self.address,
        )
        self.send(codec.bind_resp(pdu.command_id, pdu.sequence, rules.ESME_ROK))
        if self.state is not BindState.TRANSMITTER:
            self.deliveries = DeliveryPump(
                self._gateway, account_id, self.send, self._sequence, self._settings.deliveries
            )
            self.deliveries.start()

    def _use(self) -> tuple[int, int]:
        return len(self._submits), self._accepted

    def _submit(self, pdu: p.Pdu) -> None:
        resp = pdu.command_id | p.RESP
        full = len(self._submits) >= self._settings.window
        if full or not self._limits.admit(self._bound_account(), multi.destinations(pdu)):
            self.send(p.pdu(resp, pdu.sequence, status=rules.ESME_RTHROTTLED))
            return
        self._accepted += 1  # counted here only; the renewal writes the rate (limits.py)
        metrics.SMPP_SENDS.inc()
        if pdu.command_id in SENDS_TOO:
            assert self._submitter is not None
            failed = p.pdu(resp, pdu.sequence, status=rules.ESME_RSYSERR)
            self._track(SENDS_TOO[pdu.command_id](self._submitter, pdu), failed)
            return
        try:
            submission = codec.submission(pdu.raw)
        except ValueError:
            self.send(codec.generic_nack(pdu.sequence, rules.ESME_RINVCMDLEN))
            return
        self._track(self._answer(pdu.sequence, submission))

    def _track(self, work: Coroutine[Any, Any, bytes | None], failed: bytes = b"") -> None:
        """Run `work` in its own task (one slow answer holds no other PDU) and send what it
        returns, or `failed` if it raises; unbind waits for these tasks."""

        async def answer() -> None:
            try:
                data = await work
            except Exception:  # a bug must still answer the client, and not as a success
                log.exception("SMPP %s: a request failed", self.address)
                data = failed
            if data:
                self.send(data)

        task = asyncio.create_task(answer())
        self._submits.add(task)
        task.add_done_callback(self._submits.discard)

    def _bound_account(self) -> int:
        assert self.account_id is not None  # ACCEPTS lets these PDUs in only once bound
        return self.account_id

    async def _answer(self, sequence: int, submission: codec.Submission) -> None:
        assert self._submitter is not None
        try:
            status, message_id = await self._submitter.submit(submission)
        except Exception:  # a bug must still answer the client, and not as a success
            log.exception("SMPP %s: submit_sm %d failed", self.address, sequence)
            status, message_id = rules.ESME_RSYSERR, ""
        self.send(codec.submit_resp(sequence, status, message_id))

    async def _keepalive(self) -> None:
        s = self._settings
        tick = max(0.05, min(s.enquire_seconds, s.bind_seconds, s.dead_seconds) / 4)
        asked = self._heard
        while not self.closed.is_set():
            await asyncio.sleep(tick)
            now = self._loop.time()
            if self.state is BindState.OPEN and now - self._opened >= s.bind_seconds:
                log.info("SMPP %s did not bind in time; closing", self.address)
                break
            if now - self._heard >= s.dead_seconds:
                log.info("SMPP %s: silent for %.0f s; closing", self.address, now - self._heard)
                break
            bound = self.state is not BindState.OPEN
            if bound and now - max(self._heard, asked) >= s.enquire_seconds:
                asked = now
                self.send(p.pdu(p.ENQUIRE_LINK, next(self._sequence)))
            if self._submitter is not None:
                self._submitter.expire()
        await self.close()
