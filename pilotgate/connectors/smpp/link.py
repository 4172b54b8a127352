"""SmppConnector: one SMPP 3.4 link to an SMSC, as a Connector and a Link (connectors.base).

    start(events) ──> connect, bind (trx, or tx + rx) ──> bound ──> submit() works
          ^                                                  │ connection lost / unbind
          └──── backoff with jitter (policy.backoff) <───────┘
    stop(): refuse new submits, wait (bounded) for the window to drain, unbind, close.

A message's parts go one after the other (each waits for its submit_sm_resp), so a throttled
part is sent again before the next one and the SMSC sees them in order; different messages
share the window. A submit_sm_resp that never comes makes the message go back to the queue
(Rejected, not final): the SMSC may have taken it, so a retry can deliver it twice. We prefer
that to losing it (docs/smpp.md, "at least once").
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pilotgate.domain import receipts as dlr, sms_encoding as enc, text as sms_text
from pilotgate.domain.messages import Message
from pilotgate.errors import ConnectorError

from ..base import Accepted, Events, LinkState, Rejected
from ..schemas.smpp import SmppSettings
from . import policy, wire
from .inbound import DeliverSmHandler
from .session import LinkLostError, SmppSession

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _unbind(sequence: int) -> bytes:
    return wire.pdu(wire.UNBIND, sequence)


class SmppConnector:
    """Build with `SmppConnector(SmppSettings.from_json(name, row.settings, mps=row.mps))`."""

    def __init__(
        self,
        settings: SmppSettings,
        *,
        clock: Callable[[], datetime] = _now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self._jitter = jitter
        self._bound = asyncio.Event()
        self._window = asyncio.Semaphore(settings.window)
        self._open = asyncio.Event()  # cleared while the SMSC asks us to slow down
        self._open.set()
        self._bucket = policy.Bucket(tokens=1.0, at=0.0)
        self._refs = enc.References(modulus=65536 if settings.concat != enc.Concat.UDH else 256)
        self._tx: SmppSession | None = None
        self._sessions: list[SmppSession] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._in_flight = 0  # submit() calls under way
        self._window_used = 0  # submit_sm awaiting their response
        self._second = self._this_second = self._per_second = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._inbound = DeliverSmHandler(settings, clock=clock, problem=self._problem)
        self.counts = {"submitted": 0, "errors": 0, "throttled": 0, "reconnects": 0}
        self.problems: dict[str, int] = {}

    # -- Link ---------------------------------------------------------------------------

    async def start(self, events: Events) -> None:
        self._inbound.start(self.name, events)
        self._task = asyncio.create_task(self._run(), name=f"smpp-{self.name}")

    async def wait_bound(self) -> None:
        """Return once the link is bound (tests and the CLI wait on it)."""
        await self._bound.wait()

    async def stop(self) -> None:
        # Refuse new submits; those in the window keep going until drained or timed out.
        self._stopping.set()
        try:
            async with asyncio.timeout(self.settings.drain_timeout):
                await self._idle.wait()
        except TimeoutError:
            self._problem("drain", f"{self._in_flight} submits still waiting at stop")
        # Unbind politely so the SMSC stops routing receipts and MO to a dead bind.
        for session in self._sessions:
            try:
                await session.request(_unbind, min(2.0, self.settings.response_timeout))
            except (TimeoutError, LinkLostError):
                pass  # the SMSC did not answer: we close anyway
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._inbound.stop()

    def state(self) -> LinkState:
        return LinkState(
            bound=self._bound.is_set(),
            window_used=self._window_used,
            window=self.settings.window,
            submitted=self.counts["submitted"],
            receipts=self._inbound.receipts,
            errors=self.counts["errors"],
            detail={
                **{key: str(value) for key, value in self.counts.items()},
                **{f"problem.{key}": str(value) for key, value in self.problems.items()},
                "inbound": str(self._inbound.mo),
                "per_second": str(self._per_second),
            },
        )

    # -- Connector ----------------------------------------------------------------------

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted | Rejected]:
        """Send every part of every message; one outcome per message once all have their
        responses. Raises ConnectorError when the link is not bound or is stopping."""
        if self._stopping.is_set() or not self._bound.is_set():
            raise ConnectorError(f"SMPP link {self.name} is not bound")
        self._in_flight += 1
        self._idle.clear()
        try:
            return list(await asyncio.gather(*(self._submit_one(m) for m in messages)))
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _submit_one(self, message: Message) -> Accepted | Rejected:
        reference = -1
        if message.channel != "ping" and sms_text.count_parts(message.text) > 1:
            try:
                reference = self._refs.allocate(message.phone)
            except ValueError as busy:  # every reference to this phone is in flight
                return Rejected(
                    server_id=message.server_id, error=110, final=False, reason=str(busy)
                )
        try:
            ids = []
            for submit in wire.submits(message, self.settings, reference):
                result = await self._send(submit)
                if isinstance(result, tuple):
                    verdict, error, reason = result
                    self.counts["errors"] += 1
                    return Rejected(
                        server_id=message.server_id,
                        error=error,
                        final=verdict is policy.StatusVerdict.FINAL,
                        retry_after=self.settings.throttle_pause,
                        reason=reason,
                    )
                ids.append(dlr.normalise_id(result, self.settings.resp_id))
        finally:
            if reference >= 0:
                self._refs.release(message.phone, reference)
        return Accepted(server_id=message.server_id, remote_id=ids[0], remote_ids=tuple(ids))

    async def _send(self, submit: wire.Submit) -> str | tuple[policy.StatusVerdict, int, str]:
        """One part: its SMSC id, or (verdict, error, reason) when it was not taken."""
        for _ in range(self.settings.throttle_retries + 1):
            await self._open.wait()
            await self._pace()
            async with self._window:
                session = self._tx
                if session is None:
                    return policy.StatusVerdict.TEMPORARY, 110, "link down"
                self._window_used += 1
                try:
                    response = await session.request(
                        lambda seq: wire.submit_sm(seq, submit), self.settings.response_timeout
                    )
                except TimeoutError:
                    return policy.StatusVerdict.TEMPORARY, 110, "no submit_sm_resp in time"
                except LinkLostError:
                    return policy.StatusVerdict.TEMPORARY, 110, "connection lost"
                finally:
                    self._window_used -= 1
            verdict, error = policy.classify(response.status)
            if response.command_id == wire.GENERIC_NACK and verdict is policy.StatusVerdict.OK:
                verdict, error = policy.StatusVerdict.FINAL, 603  # a nack that claims success
            if verdict is policy.StatusVerdict.OK:
                self._count_submitted()
                return wire.message_id(response.body)
            if verdict is not policy.StatusVerdict.THROTTLED:
                return verdict, error, f"command_status 0x{response.status:08x}"
            self._pause()
        return policy.StatusVerdict.TEMPORARY, 110, "still throttled"

    def _count_submitted(self) -> None:
        # Parts per second over the last whole second, for `pilotgate connector list`.
        self.counts["submitted"] += 1
        second = int(asyncio.get_running_loop().time())
        if second != self._second:
            self._per_second = self._this_second if second == self._second + 1 else 0
            self._second, self._this_second = second, 0
        self._this_second += 1

    def _pause(self) -> None:
        self.counts["throttled"] += 1
        if self._open.is_set():
            self._open.clear()
            loop = asyncio.get_running_loop()
            loop.call_later(self.settings.throttle_pause, self._open.set)

    async def _pace(self) -> None:
        if self.settings.mps <= 0:
            return
        rate = float(self.settings.mps)
        now = asyncio.get_running_loop().time()
        self._bucket, wait = policy.take(self._bucket, now, rate, burst=max(1.0, rate / 10))
        if wait > 0:
            await asyncio.sleep(wait)

    # -- connection ---------------------------------------------------------------------

    def _problem(self, key: str, message: str) -> None:
        """Log a kind of trouble once; later occurrences are only counted (state())."""
        self.problems[key] = self.problems.get(key, 0) + 1
        if self.problems[key] == 1:
            log.warning("SMPP link %s: %s (logged once; counted in state())", self.name, message)

    async def _open_session(self, command_id: int) -> SmppSession:
        settings = self.settings
        async with asyncio.timeout(settings.connect_timeout):
            reader, writer = await asyncio.open_connection(settings.host, settings.port)
        session = SmppSession(
            reader, writer, on_deliver=self._inbound.deliver, on_problem=self._problem
        )
        session.start(settings.enquire_link, settings.response_timeout)
        self._sessions.append(session)
        response = await session.request(
            lambda seq: wire.bind(
                command_id, seq, settings.system_id, settings.password, settings.system_type
            ),
            settings.response_timeout,
        )
        if response.command_id != command_id | wire.RESP or response.status:
            raise ConnectionError(f"bind refused: command_status 0x{response.status:08x}")
        return session

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                if self.settings.bind == "trx":
                    self._tx = await self._open_session(wire.BIND_TRANSCEIVER)
                else:
                    self._tx = await self._open_session(wire.BIND_TRANSMITTER)
                    await self._open_session(wire.BIND_RECEIVER)
                attempt = 0
                self._bound.set()
                closed = [asyncio.create_task(s.closed.wait()) for s in self._sessions]
                try:
                    await asyncio.wait(closed, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in closed:
                        task.cancel()
                self._problem("lost", "connection lost or unbound by the SMSC; reconnecting")
            except (OSError, TimeoutError, LinkLostError) as error:
                self._problem("connect", f"cannot bind to {self.settings.host}: {error!r}")
            finally:
                self._bound.clear()
                self._tx = None
                sessions, self._sessions = self._sessions, []
                await asyncio.gather(*(s.close() for s in sessions))
            if self._stopping.is_set():
                break
            self.counts["reconnects"] += 1
            s = self.settings
            await asyncio.sleep(
                policy.backoff(attempt, s.reconnect_base, s.reconnect_cap, self._jitter())
            )
            attempt += 1
