"""SipConnector: voice calls (GOLOS, GOLOSM) and flash calls through a SIP trunk (contract
§13.2, §13.3).

    submit() ──> checks, speech rendered (cached), an RTP port, the INVITE sent
             ──> Accepted(remote_id = Call-ID) at once; the call runs in its own task
    call task ──> ringing / answered ──> audio at 20 ms a packet ──> BYE
              ──> Receipt(Call-ID, 2 or -1 with 601/602/603) to events.receipts()

A call takes seconds, so the outbox is never held for one: only the speech is rendered
before the hand-over (so a text that turns out too long ends -2 with 221, uncharged). At
most `max_calls` run at once; more are refused for now and wait in the queue. Calls in
flight when the link stops are hung up (CANCEL or BYE) and not reported: their messages
end by expiry (-1, 600), as other links' lost hand-overs do.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from pilotgate.domain import audio, speech
from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Message
from pilotgate.domain.receipts import Receipt
from pilotgate.errors import ConnectorError, GatewayError

from ..base import Accepted, Events, LinkState, Rejected
from ..schemas.sip import SipSettings, flash_caller
from . import media, outcomes
from .call import Call, State
from .call_events import Party, Result
from .conversation import T1, Conversation
from .message import ParseError, SipRequest, SipResponse, parse
from .register import Registrar
from .transport import RtpSocket, SipTransport, local_address
from .tts import Synthesizer

log = logging.getLogger(__name__)

#: Seconds an ended call still answers late responses (RFC 3261 timer H, 64 × T1).
LINGER = 64 * T1


class SipConnector(Conversation):
    """Build with `SipConnector(SipSettings.from_json(name, row.settings))`."""

    def __init__(self, settings: SipSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self._tts = Synthesizer(settings.cache_dir, program=settings.tts_program)
        self._events: Events | None = None
        self._transport: SipTransport | None = None
        self._registrar: Registrar | None = None
        self._calls: dict[str, asyncio.Queue[SipRequest | SipResponse]] = {}
        #: Calls that ended lately, by Call-ID, with when (loop time): late answers to them.
        self._ended: dict[str, tuple[Call, float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._local = ""
        self._host = ""
        self._keeper: asyncio.Task[None] | None = None
        self._ports = range(
            settings.rtp_port_min + settings.rtp_port_min % 2, settings.rtp_port_max + 1, 2
        )
        self._next_port = 0
        self._stopping = False
        self.counts = {"submitted": 0, "receipts": 0, "errors": 0, "garbage": 0}

    # -- Link ------------------------------------------------------------------------------

    async def start(self, events: Events) -> None:
        s = self.settings
        self._events, self._stopping = events, False
        self._host = s.local_host or local_address(s.host, s.port)
        self._transport = SipTransport(s.transport, s.host, s.port, self._received)
        if s.transport == "udp":
            bind = s.local_host or "0.0.0.0"  # noqa: S104 - a SIP UA listens where it can
            await self._transport.open(bind, s.local_port)
            self._opened()
        else:
            self._keeper = asyncio.create_task(self._keep_connected(), name=f"sip-{self.name}")

    def _opened(self) -> None:
        assert self._transport is not None
        self._local = f"{self._host}:{self._transport.local_port}"
        if self.settings.register:
            self._registrar = Registrar(self.settings, self._local, self._transport, self._calls)
            self._registrar.start()

    async def _keep_connected(self) -> None:
        """TCP: connect, and connect again whenever the connection drops (the link is
        unbound meanwhile, so routes fail over); backoff from 0.5 s to 10 s."""
        assert self._transport is not None
        delay = 0.5
        while not self._stopping:
            try:
                await self._transport.open(self._host, self.settings.local_port)
            except ConnectorError as exc:
                log.warning("sip %s: %s; again in %.1f s", self.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            self._opened()
            await self._transport.lost.wait()
            log.warning("sip %s: the TCP connection to the trunk dropped", self.name)
            await self._stop_registrar()
            await self._transport.close()

    async def _stop_registrar(self) -> None:
        if self._registrar is not None:
            await self._registrar.stop()
            self._registrar = None

    async def stop(self) -> None:
        self._stopping = True
        for task in [*self._tasks, *([self._keeper] if self._keeper else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._keeper is not None:
            await asyncio.gather(self._keeper, return_exceptions=True)
            self._keeper = None
        await self._stop_registrar()
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    def state(self) -> LinkState:
        bound = self._bound()
        return LinkState(
            bound=bound,
            window_used=len(self._tasks),
            window=self.settings.max_calls,
            submitted=self.counts["submitted"],
            receipts=self.counts["receipts"],
            errors=self.counts["errors"],
            detail={"garbage": str(self.counts["garbage"]), "local": self._local},
        )

    def _bound(self) -> bool:
        t = self._transport
        if self._stopping or t is None or t.lost.is_set():
            return False
        return self._registrar is None or self._registrar.registered

    def _received(self, data: bytes) -> None:
        try:
            message = parse(data)
        except ParseError as exc:
            self.counts["garbage"] += 1
            log.debug("sip %s: dropped garbage: %s", self.name, exc)
            return
        queue = self._calls.get(message.call_id)
        ended = self._ended.get(message.call_id)
        if queue is not None:
            queue.put_nowait(message)
        elif ended is not None:
            # A call we are done with: ACK a final response that comes again, and ACK and
            # hang up a 2xx that comes after we gave the call up.
            self._send_all(ended[0].receive(message))
        elif isinstance(message, SipRequest) and message.method != "ACK" and self._transport:
            reply = SipResponse(status=481, reason="Call/Transaction Does Not Exist")
            reply.headers = [
                (n, v) for n, v in message.headers if n in ("via", "from", "to", "call-id", "cseq")
            ]
            self._transport.send(reply.encode())

    # -- Connector -------------------------------------------------------------------------

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted | Rejected]:
        if not self._bound():
            raise ConnectorError(f"sip {self.name} is not ready")
        return [await self._submit_one(message) for message in messages]

    async def _submit_one(self, message: Message) -> Accepted | Rejected:
        s = self.settings

        def refuse(error: int, final: bool, reason: str) -> Rejected:
            self.counts["errors"] += 1
            return Rejected(
                server_id=message.server_id,
                error=error,
                final=final,
                retry_after=s.retry_after,
                reason=reason,
            )

        if message.channel not in (Channel.VOICE, Channel.FLASHCALL):
            return refuse(213, True, f"sip carries voice and flash calls, not {message.channel}")
        if len(self._tasks) >= s.max_calls:
            return refuse(110, False, "all lines busy")
        payload = b""
        if message.channel == Channel.VOICE:
            if speech.too_long(message.text, s.max_seconds):
                return refuse(221, True, "speech would be too long")
            try:
                pcm = await self._tts.speak(message.text, message.sender)
            except ConnectorError as exc:
                return refuse(110, False, str(exc))
            if audio.seconds(pcm) > s.max_seconds:
                return refuse(221, True, f"speech lasts {audio.seconds(pcm):.1f} s")
            payload = pcm
            caller = s.caller_id
        else:
            found = flash_caller(s, message.text)
            if found is None:
                return refuse(213, True, f"the caller pool has no number ending {message.text}")
            caller = found
        try:
            rtp = await RtpSocket.open(self._local.rsplit(":", 1)[0], self._ports, self._next_port)
        except ConnectorError as exc:
            return refuse(110, False, str(exc))
        self._next_port = self._ports.index(rtp.port) + 1
        party = Party(
            caller=caller,
            callee=message.phone,
            domain=s.uri_domain,
            local=self._local,
            transport=s.transport.upper(),
            username=s.username,
            password=s.password,
        )
        host = self._local.rsplit(":", 1)[0]
        session = secrets.randbelow(2**31)
        call = Call(party=party, sdp=media.offer(host, rtp.port, session))
        self._calls[call.call_id] = asyncio.Queue()
        task = asyncio.create_task(
            self._run(call, message.channel == Channel.VOICE, payload, rtp),
            name=f"sip-{self.name}-{message.server_id}",
        )
        self._tasks.add(task)
        # Also when the task is cancelled before it ever ran (the link stops at once): the
        # port and the call's slot are given back whatever happened inside.
        task.add_done_callback(lambda done: self._finished(done, call, rtp))
        self.counts["submitted"] += 1
        return Accepted(server_id=message.server_id, remote_id=call.call_id)

    # -- one call --------------------------------------------------------------------------

    async def _run(self, call: Call, voice: bool, pcm: bytes, rtp: RtpSocket) -> None:
        try:
            result = await self._converse(call, voice, pcm, rtp)
        except asyncio.CancelledError:
            # The link stops: let the trunk go (CANCEL or BYE), unreported.
            self._send_all(call.cancel() if call.state is State.PROCEEDING else call.hangup())
            raise
        except Exception:  # the top of a call's task: a bug must not lose the message
            log.exception("sip %s: call %s failed", self.name, call.call_id)
            self._send_all(call.cancel() if call.state is State.PROCEEDING else call.hangup())
            result = Result(code=500, answered=False)
        finally:
            self._finished(None, call, rtp)
        status, error = outcomes.voice(result) if voice else outcomes.flash(result)
        receipt = Receipt(remote_id=call.call_id, status=status, error=error, done_at=_now())
        if self._events is None:
            return
        try:
            await self._events.receipts(self.name, [receipt])
            self.counts["receipts"] += 1
        except GatewayError:
            log.exception(
                "sip %s: recording the outcome of call %s failed", self.name, call.call_id
            )

    def _finished(self, task: asyncio.Task[None] | None, call: Call, rtp: RtpSocket) -> None:
        rtp.close()
        if self._calls.pop(call.call_id, None) is not None:
            now = asyncio.get_running_loop().time()
            for stale in [k for k, (_, at) in self._ended.items() if now - at > LINGER]:
                del self._ended[stale]
            self._ended[call.call_id] = (call, now)
        if task is not None:
            self._tasks.discard(task)


def _now() -> datetime:
    return datetime.now(UTC)
