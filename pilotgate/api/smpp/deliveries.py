"""Receipts and inbound SMS to one receiving bind (bind_receiver or bind_transceiver): claim
what the account is owed, send each as a deliver_sm, and report the answers.

- Claims are leased (`lease`): every receiving bind of the account, on any node, claims
  from the same table and never holds a row another holds; rows of a process that died
  come back when their lease runs out.
- At most `window` deliver_sm await their answer. A deliver_sm_resp with status 0 deletes
  the row; an error status (or a generic_nack) or no answer within `timeout` gives it back
  with a backoff (`deliver_sm.retry_after`); a row never answered when the bind closes is
  given back due at once, so the next bind sends it again (at least once: a client that
  took it and did not answer hears it twice).
- New rows are found by polling every `poll` seconds (one indexed claim per receiving
  bind); an answer wakes the loop at once so a backlog drains at the client's pace, and so
  do receipts this process records from its SMPP links (`SmppServer.deliveries_due`): the
  poll is for what other processes record.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pilotgate.domain import deliver_sm, smpp_pdu as p
from pilotgate.domain.deliver_sm import Owed
from pilotgate.errors import GatewayError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    #: Seconds between claims while nothing is owed (`smpp_receipt_poll`).
    poll: float = 0.5
    #: Seconds a deliver_sm may wait for its answer before it counts as refused.
    timeout: float = 10.0
    #: deliver_sm of one bind awaiting their answer (`smpp_receipt_window`).
    window: int = 50
    #: Seconds a claim holds its rows (longer than `timeout`: a live bind never loses one).
    lease: float = 60.0
    #: Hours a row waits for a bind before it is dropped (`smpp_receipt_validity`).
    validity_hours: float = 72.0


class DeliveryPump:
    def __init__(
        self,
        gateway: Gateway,
        account_id: int,
        send: Callable[[bytes], None],
        sequence: itertools.count[int],
        settings: DeliverySettings,
    ) -> None:
        self._gateway, self._account_id = gateway, account_id
        self._send, self._sequence, self._settings = send, sequence, settings
        # One owner per bind: a lease names the bind that may finish or give back its rows.
        self.owner = f"smpp-{uuid.uuid4().hex}"
        self._loop = asyncio.get_running_loop()
        self._waiting: dict[int, tuple[Owed, float]] = {}  # sequence -> (row, deadline)
        self._answered: list[Owed] = []
        self._refused: list[Owed] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def answered(self, pdu: p.Pdu) -> None:
        """A response from the client: if it answers one of our deliver_sm, note it."""
        found = self._waiting.pop(pdu.sequence, None)
        if found is None:
            return  # enquire_link_resp, unbind_resp, or an answer we gave up waiting for
        ok = pdu.command_id == p.DELIVER_SM | p.RESP and pdu.status == 0
        (self._answered if ok else self._refused).append(found[0])
        self._wake.set()

    def due(self) -> None:
        """Rows may be owed now (this process recorded final statuses): claim at once."""
        self._wake.set()

    async def stop(self) -> None:
        """The bind is over: settle what was answered, give back what was not."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        unanswered = [owed for owed, _ in self._waiting.values()]
        self._waiting.clear()
        try:
            await self._settle()
            await self._gateway.deliveries_returned(self.owner, unanswered)
        except GatewayError:
            log.warning("SMPP deliveries of account %d: could not settle", self._account_id)

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the step, not after: an answer or a receipt that comes while
            # the step waits for the database runs the next step at once, not a poll later.
            self._wake.clear()
            try:
                await self._step()
            except GatewayError:
                # The database is away: the rows keep their lease until it is back.
                log.warning("SMPP deliveries of account %d: storage failed", self._account_id)
            # Not wait_for: on Python 3.11 it can swallow the stop's cancel when the wake-up
            # comes at the same moment, and the bind would never finish closing.
            try:
                async with asyncio.timeout(self._settings.poll):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _step(self) -> None:
        now = self._loop.time()
        for sequence, (owed, deadline) in list(self._waiting.items()):
            if deadline <= now:
                del self._waiting[sequence]
                self._refused.append(owed)
        await self._settle()
        room = self._settings.window - len(self._waiting)
        if room <= 0:
            return
        s = self._settings
        owed_rows = await self._gateway.claim_deliveries(
            self._account_id, self.owner, lease_seconds=s.lease, limit=room
        )
        deadline = self._loop.time() + s.timeout
        for owed in owed_rows:
            sequence = next(self._sequence)
            self._waiting[sequence] = (owed, deadline)
            self._send(deliver_sm.encode(owed, sequence))

    async def _settle(self) -> None:
        answered, self._answered = self._answered, []
        refused, self._refused = self._refused, []
        if answered:
            await self._gateway.deliveries_answered(self.owner, [o.id for o in answered])
            metrics.SMPP_DELIVERIES.labels("answered").inc(len(answered))
        if refused:
            await self._gateway.deliveries_refused(self.owner, refused, "refused or no answer")
            metrics.SMPP_DELIVERIES.labels("refused").inc(len(refused))
