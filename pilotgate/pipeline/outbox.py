"""The outbox worker: the durable queue is the messages table itself.

Each round it releases scheduled messages whose time has come, expires the ones past their
validity, claims a batch of accepted ones (so a second worker process never takes the same
rows), hands each to the first usable connector of its route within that connector's rate
(the rest go back to the queue), records the hand-over (0 → 1), and applies outcomes that
have come due. A claimed message is marked as being handed over in the same statement: if
this worker dies before recording the hand-over, nobody knows whether the connector got it,
so it is never handed over again (at most once). Such a message is "in doubt"; once its lease
has been over for `unknown_after` it ends -1 with error 606 (hand-over unknown), with its
callback, instead of waiting for its validity (docs/decisions.md).

A hand-over the database refuses to record (an outage) is not dropped: it waits in a
Backlog and is recorded, in order, when the database is back; meanwhile the worker claims
nothing more, and its messages stay marked, so no other worker hands them over again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from pilotgate.domain import idempotency, routing
from pilotgate.domain.messages import Message
from pilotgate.errors import GatewayError
from pilotgate.storage.roles import Store

from . import metrics
from .backlog import Backlog
from .connector_pool import ConnectorPool
from .handover import Courier
from .retention import Pruner
from .shaping import Shaper

log = logging.getLogger("pilotgate.outbox")


#: Messages stored before routing existed carry no route: they go to the emulator.
DEFAULT_ROUTE = ("emulator",)
#: How often, and how many at a time, pending statistics deltas are folded (fold_statistics).
FOLD_INTERVAL = timedelta(seconds=5)
FOLD_LIMIT = 50_000
#: Message counts of capped accounts are kept this long: two months cover this one's.
#: How long the SMS-pumping defence's counters are kept (its windows are minutes long).
VELOCITY_KEPT = timedelta(days=1)
USAGE_KEPT = timedelta(days=62)


class Outbox:
    """The outbox worker: of the store, the queue (`OutboxStore`), connectors' settings and
    rate tokens (`LinkStore`), the statistics it folds (`DashboardReads`), the idempotency
    keys, message counts and history it forgets (`IdempotencyStore`, `ProtectionStore`,
    `HeldStore`, `RetentionStore`), the accounts' send buckets (`RateStore`); roles are
    classes (storage/roles.py), so a user of several is typed with `Store`."""

    def __init__(
        self,
        store: Store,
        connectors: ConnectorPool,
        clock: Callable[[], datetime],
        *,
        batch: int = 500,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.2,
        unknown_after: float = 300.0,
        default_mps: int = 0,
        retention_days: int = 0,
    ) -> None:
        self._store = store
        self._pool = connectors
        self._clock = clock
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_interval
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._stopping = asyncio.Event()
        self._poll_delta = timedelta(seconds=poll_interval)
        self._released_at: datetime | None = None
        self._folded_at: datetime | None = None
        self._unknown_after = timedelta(seconds=unknown_after)
        self._pruner = Pruner(store, retention_days)
        self._backlog = Backlog(f"outbox {self.owner}", first=poll_interval)
        self._courier = Courier(store, connectors, clock, self._backlog, self.owner)
        #: The accounts' messages per second (pipeline/shaping.py).
        self._shaper = Shaper(store, clock, default_mps)
        #: Start of the current run of rounds that all reached the database (None after a
        #: failed one): see `_sweep_unknown`.
        self._steady_since: datetime | None = None

    @property
    def pool(self) -> ConnectorPool:
        """The connectors this worker hands messages to (shared with its LinkKeeper)."""
        return self._pool

    async def run_once(self) -> int:
        """One round; returns how many messages it moved (0 means idle)."""
        now = self._clock()
        try:
            if not await self._backlog.flush():
                # The database is still away: claim nothing more until what we hold is
                # recorded.
                self._steady_since = None
                return 0
            if self._steady_since is None:
                # First round after a failed one (or the first ever): everything this worker
                # gave a connector is recorded by now, so a message it still leases was
                # claimed and never handed over (say the claim committed but its answer was
                # lost): give those back rather than leave them in doubt.
                await self._store.release_leases(self.owner)
            moved = await self._round(now)
        except GatewayError:
            self._steady_since = None
            raise
        if self._steady_since is None:
            self._steady_since = now
        return moved

    async def _round(self, now: datetime) -> int:
        moved = 0
        # Schedules and expiry are due to the second; checking once per poll interval is enough
        # and keeps busy rounds (one per claimed batch) cheap.
        if self._released_at is None or now - self._released_at >= self._poll_delta:
            moved += await self._store.release_scheduled(now)
            # Outcomes first: a round that comes late (after a pause, an outage, a busy
            # database) must not let a message expire whose known outcome was due before.
            moved += await self._store.apply_due_outcomes(now, self._batch)
            moved += await self._store.expire(now, self._batch)
            moved += await self._sweep_unknown(now)
            self._released_at = now
        if self._folded_at is None or now - self._folded_at >= FOLD_INTERVAL:
            # The dashboard's per-day statistics: PostgreSQL's pending deltas become counters
            # here, so the statistics page only ever adds the last few seconds' worth.
            await self._store.fold_statistics(FOLD_LIMIT)
            # Keys past their window answer nothing any more (domain/idempotency.py).
            await self._store.purge_idempotency_keys(now - idempotency.WINDOW, FOLD_LIMIT)
            # Counts of last month's caps and older (domain/limits.py).
            await self._store.purge_usage(now - USAGE_KEPT, FOLD_LIMIT)
            # History older than `retention_days`: on PostgreSQL old partitions dropped whole
            # (once a minute), then a few small batches (docs/retention.md).
            await self._pruner.run_once(now)
            # Velocity counters of windows long over (domain/pumping.py).
            await self._store.purge_velocity(now - VELOCITY_KEPT, FOLD_LIMIT)
            self._folded_at = now
        await self._pool.refresh(self._store)
        shaped = await self._shaper.refresh(now)
        claimed = await self._store.claim(
            self.owner, now, now + self._lease, self._batch, self._pool.claim_filter(), shaped
        )
        waiting: list[int] = []
        if shaped:
            claimed, waiting = await self._shaper.shape(claimed)
        groups: dict[str, list[Message]] = defaultdict(list)
        for message in claimed:
            route = routing.parse_connectors(message.route) or DEFAULT_ROUTE
            name = routing.choose(route, self._pool.usable)
            if name is None:
                waiting.append(message.server_id)  # every connector of its route is off
            else:
                groups[name].append(message)
        for name, messages in groups.items():
            moved += await self._courier.hand_over(name, messages, waiting)
        if waiting:
            # Back to the queue: they go when a connector comes back, or expire.
            self._backlog.add(
                f"release of {len(waiting)}",
                functools.partial(self._store.release_leases, self.owner, waiting),
            )
            await self._backlog.flush()
        moved += await self._store.apply_due_outcomes(self._clock(), self._batch)
        return moved

    async def _sweep_unknown(self, now: datetime) -> int:
        """End messages left in doubt by a worker that died: claimed, lease over for
        `unknown_after`, hand-over never recorded. Only after this worker has itself reached
        the database for `unknown_after` without a failed round: a live worker whose
        hand-overs wait in its backlog through an outage records them within seconds of the
        database coming back, long before that."""
        if self._steady_since is None or now - self._steady_since < self._unknown_after:
            return 0
        ended = await self._store.end_unknown_handovers(now - self._unknown_after, now, self._batch)
        if ended:
            log.warning("%d message(s) in doubt ended as hand-over unknown (-1, 606)", ended)
            metrics.HANDOVER_UNKNOWN.inc(ended)
        return ended

    async def run(self) -> None:
        """Work until `stop()`; then give back the leases still held."""
        log.info("outbox worker %s started", self.owner)
        try:
            while not self._stopping.is_set():
                try:
                    moved = await self.run_once()
                except GatewayError:
                    # A failed round changes nothing durable; the next round retries it.
                    log.exception("outbox round failed")
                    moved = 0
                if moved == 0:
                    try:
                        await asyncio.wait_for(self._stopping.wait(), self._poll)
                    except TimeoutError:
                        pass
                else:
                    await asyncio.sleep(0)  # let API requests in between busy rounds
        finally:
            if await self._backlog.flush(force=True):
                released = await self._store.release_leases(self.owner)
                log.info("outbox worker %s stopped, %d leases released", self.owner, released)
            else:
                # Giving the leases back now could let another worker hand over again what
                # a connector already has: its messages end as hand-over unknown instead.
                log.error(
                    "outbox worker %s stopped with %d write(s) not recorded (database away)",
                    self.owner,
                    len(self._backlog),
                )

    def stop(self) -> None:
        self._stopping.set()
