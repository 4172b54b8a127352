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
from typing import Protocol

from pilotgate.connectors.base import Accepted, Connector, Link, Rejected
from pilotgate.domain import idempotency, routing
from pilotgate.domain.messages import Message
from pilotgate.errors import ConnectorError, GatewayError
from pilotgate.storage.base import ConnectorInfo, Handover, Refusal
from pilotgate.storage.dashboard import DashboardReads
from pilotgate.storage.roles import (
    HeldStore,
    IdempotencyStore,
    LinkStore,
    OutboxStore,
    ProtectionStore,
    RateStore,
    RetentionStore,
)

from . import hlrvip, metrics
from .backlog import Backlog
from .retention import Pruner
from .shaping import Shaper


class OutboxWorkerStore(
    OutboxStore,
    LinkStore,
    DashboardReads,
    IdempotencyStore,
    ProtectionStore,
    HeldStore,
    RateStore,
    RetentionStore,
    Protocol,
):
    """What the outbox reads and writes: the queue, connectors' settings and rate tokens,
    the statistics it folds, the idempotency keys, message counts and history it forgets,
    the accounts' send buckets."""


log = logging.getLogger("pilotgate.outbox")


#: Builds the connector a configuration names, or None for a kind this process cannot run.
ConnectorFactory = Callable[[ConnectorInfo], Connector | None]

#: Messages stored before routing existed carry no route: they go to the emulator.
DEFAULT_ROUTE = ("emulator",)
#: How often, and how many at a time, pending statistics deltas are folded (fold_statistics).
FOLD_INTERVAL = timedelta(seconds=5)
FOLD_LIMIT = 50_000
#: Message counts of capped accounts are kept this long: two months cover this one's.
#: How long the SMS-pumping defence's counters are kept (its windows are minutes long).
VELOCITY_KEPT = timedelta(days=1)
USAGE_KEPT = timedelta(days=62)


class ConnectorPool:
    """The connectors this process can hand messages to, kept in step with the database
    (added, enabled or disabled from the CLI). It is read every round, one small query, so
    a connector disabled from the CLI takes no message claimed after that."""

    def __init__(self, factory: ConnectorFactory) -> None:
        self._factory = factory
        self.live: dict[str, Connector] = {}
        self.enabled: set[str] = set()
        self.usable: set[str] = set()  # enabled, and for links: held here and bound
        self.limited: set[str] = set()  # connectors with a messages-per-second limit
        self.held: set[str] = set()  # links this process holds (LinkKeeper)
        self._made_from: dict[str, tuple[str, str, int]] = {}  # name → (kind, settings, mps)

    async def refresh(self, store: LinkStore) -> None:
        enabled, limited = set(), set()
        for info in await store.connectors():
            recipe = (info.kind, info.settings, info.mps)
            if self._made_from.get(info.name) != recipe:
                # New, or reconfigured from the CLI: built again (a LinkKeeper notices the
                # new object, stops the old link and starts this one).
                self._made_from[info.name] = recipe
                made = self._factory(info)
                if made is None:
                    self.live.pop(info.name, None)
                    continue
                self.live[info.name] = made
            if info.name not in self.live:
                continue
            if info.enabled:
                enabled.add(info.name)
            if info.mps > 0 and not isinstance(self.live[info.name], Link):
                # A link paces itself (one process holds it); others share a bucket in the
                # database so the limit holds across processes.
                limited.add(info.name)
        self.enabled, self.limited = enabled, limited
        self.usable = {name for name in enabled if self._ready(self.live[name])}

    def _ready(self, connector: Connector) -> bool:
        # A link takes messages only in the process that holds it, and only while bound
        # (read every round, so a fresh bind is used at once and a lost one at once not).
        if isinstance(connector, Link):
            return connector.name in self.held and connector.state().bound
        return True

    def claim_filter(self) -> list[str] | None:
        """None when this process can carry every enabled connector; else the ones it can,
        so it leaves messages for links held elsewhere to the process that holds them."""
        return None if self.usable >= self.enabled else sorted(self.usable)


class Outbox:
    def __init__(
        self,
        store: OutboxWorkerStore,
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
            # History older than `retention_days`, a few small batches (docs/retention.md).
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
            moved += await self._hand_over(name, messages, waiting)
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

    async def _hand_over(self, name: str, messages: list[Message], waiting: list[int]) -> int:
        """Give `messages` to connector `name` within its rate; the rest wait in `waiting`."""
        granted = len(messages)
        if name in self._pool.limited:  # unlimited ones need no shared bucket
            granted = await self._store.take_tokens(name, granted, self._clock())
        waiting += [m.server_id for m in messages[granted:]]
        messages = messages[:granted]
        if not messages:
            return 0
        connector = self._pool.live[name]
        try:
            outcomes = await connector.submit(messages, self._clock())
        except ConnectorError as exc:
            # The connector took none of them: they may be claimed again at once.
            log.warning("connector %s refused a batch: %s", name, exc)
            waiting += [m.server_id for m in messages]
            return 0
        except Exception:
            # A connector bug must not take the worker (and the API in its process) down.
            # Whether it sent anything is unknown; like any unanswered hand-over the batch
            # goes back to the queue (connectors are at least once, docs/smpp.md).
            log.exception("connector %s failed on a batch of %d", name, len(messages))
            waiting += [m.server_id for m in messages]
            return 0
        at = self._clock()
        try:
            # HLRVIP to unreliable destinations: the PING's answer replaces the HLR's.
            outcomes, via = await hlrvip.ping_leg(
                messages, outcomes, self._pool.live, self._pool.usable, at
            )
        except Exception:
            # Nothing between the connector's answer and the backlog may fail: the
            # connector has these messages now. The HLR's answer stands.
            log.exception("PING leg after connector %s failed", name)
            via = {}
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        refused = [o for o in outcomes if isinstance(o, Rejected)]
        answered = {o.server_id for o in outcomes}
        waiting += [m.server_id for m in messages if m.server_id not in answered]
        handovers = [
            Handover(
                server_id=a.server_id,
                connector=via.get(a.server_id, name),
                remote_id=a.remote_id,
                remote_ids=a.remote_ids,
                outcome_status=a.outcome_status,
                outcome_error=a.outcome_error,
                outcome_at=a.outcome_at,
                details=a.details,
            )
            for a in accepted
        ]
        if handovers:
            self._backlog.add(
                f"hand-over of {len(handovers)} to {name}",
                functools.partial(self._record, name, handovers, at),
            )
        if refused:
            self._backlog.add(
                f"{len(refused)} refusal(s) by {name}",
                functools.partial(self._refuse, name, refused, at),
            )
        await self._backlog.flush()
        return len(handovers) + len(refused)

    async def _record(self, name: str, handovers: list[Handover], at: datetime) -> None:
        handed = await self._store.record_handover(self.owner, handovers, at)
        metrics.HANDOVERS.labels(name).inc(handed)
        # The console's counter orders nothing: it may go behind later writes.
        self._backlog.add(
            f"{name}'s hand-over counter",
            functools.partial(self._store.count_handover, name, handed, at),
        )

    async def _refuse(self, name: str, refused: list[Rejected], now: datetime) -> None:
        await self._store.refuse(
            self.owner,
            [
                Refusal(
                    server_id=r.server_id,
                    error=r.error,
                    final=r.final,
                    retry_at=now + timedelta(seconds=r.retry_after),
                )
                for r in refused
            ],
            now,
        )
        for r in refused:
            log.info(
                "connector %s refused server_id=%d (%s, error %d%s)",
                name,
                r.server_id,
                "final" if r.final else "retry",
                r.error,
                f": {r.reason}" if r.reason else "",
            )
            metrics.REFUSALS.labels(name, "final" if r.final else "retry").inc()

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
