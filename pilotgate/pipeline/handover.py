"""The hand-over of a round's claimed messages: each connector gets its group within its
rate, and what it answered (accepted, refused, unanswered) is recorded through the worker's
backlog, so an outage of the database loses no hand-over (pipeline/outbox.py)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from pilotgate.connectors.base import Accepted, Rejected
from pilotgate.domain.messages import Message
from pilotgate.errors import ConnectorError
from pilotgate.storage.base import Handover, Refusal
from pilotgate.storage.roles import Store

from . import hlrvip, metrics
from .backlog import Backlog
from .connector_pool import ConnectorPool

log = logging.getLogger("pilotgate.outbox")


class Courier:
    """Gives connectors their messages for one outbox worker (its `owner`), and records their
    answers in that worker's backlog. Of the store it writes the hand-overs and refusals
    (`OutboxStore`), the connectors' rate tokens and their hand-over counters (`LinkStore`);
    roles are classes (storage/roles.py), so a user of several is typed with `Store`."""

    def __init__(
        self,
        store: Store,
        pool: ConnectorPool,
        clock: Callable[[], datetime],
        backlog: Backlog,
        owner: str,
    ) -> None:
        self._store = store
        self._pool = pool
        self._clock = clock
        self._backlog = backlog
        self.owner = owner

    async def hand_over(self, name: str, messages: list[Message], waiting: list[int]) -> int:
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
