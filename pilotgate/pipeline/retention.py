"""History leaves by itself (docs/retention.md): every housekeeping round of a worker, up to
`BATCHES` small batches of what is older than `retention_days`, after (on PostgreSQL, once
a minute) the partitions wholly old are dropped. Each batch is its own short
transaction, so sends wait at most one batch's delete (a few milliseconds on SQLite);
another worker process running the same rounds finds the rows gone and does nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pilotgate.storage.base import Pruned
from pilotgate.storage.roles import RetentionStore

from . import metrics

#: Rows per batch and batches per round: 10,000 messages per round (every 5 s) is 2,000 a
#: second, twenty times what 100 msg/s of traffic leaves behind.
BATCH = 500
BATCHES = 20


#: How often a worker makes the partitions ahead and drops the old ones (PostgreSQL,
#: storage/postgres/partitions.py): a partition holds about a day, so once a minute is
#: plenty, and the catalog is not read every round.
ROTATE_INTERVAL = timedelta(minutes=1)


class Pruner:
    def __init__(self, store: RetentionStore, days: int) -> None:
        self._store = store
        self._kept = timedelta(days=days) if days > 0 else None
        self._rotated_at: datetime | None = None

    async def run_once(self, now: datetime) -> Pruned:
        """Remove what is due (nothing when retention is off); on PostgreSQL first make the
        partitions ahead (retention or not: they take every insert) and drop the old ones
        whole, then batches take what partitions leave behind."""
        before = None if self._kept is None else now - self._kept
        total = Pruned()
        if self._rotated_at is None or now - self._rotated_at >= ROTATE_INTERVAL:
            total = await self._store.rotate_partitions(now, before)
            count(total)
            self._rotated_at = now
        if before is None:
            return total
        return total + await prune(self._store, before, BATCHES)


def count(pruned: Pruned) -> None:
    for kind in ("messages", "inbound", "ledger"):
        metrics.PRUNED.labels(kind).inc(getattr(pruned, kind))


async def prune(store: RetentionStore, before: datetime, batches: int | None = None) -> Pruned:
    """Batches of what was created before `before` until none is left (or `batches` ran);
    what left in all."""
    total, done = Pruned(), 0
    while batches is None or done < batches:
        pruned = await store.prune(before, BATCH)
        done += 1
        if not pruned:
            break
        count(pruned)
        total = total + pruned
        await asyncio.sleep(0)  # let requests in between batches
    return total
