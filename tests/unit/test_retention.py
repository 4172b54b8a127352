"""The workers' retention rounds: off by default, the cut-off `retention_days` before now,
batches until one comes back empty or the round's share is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pilotgate.pipeline import retention
from pilotgate.storage.base import Pruned
from pilotgate.storage.roles import RetentionStore

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Store(RetentionStore):
    # A role is the class that implements it: a fake overrides each of its methods.
    def __init__(self, batches: list[Pruned]) -> None:
        self.batches = batches
        self.asked: list[tuple[datetime, int]] = []

        self.rotated: list[tuple[datetime, datetime | None]] = []

    async def prune(self, before: datetime, limit: int) -> Pruned:
        self.asked.append((before, limit))
        return self.batches.pop(0) if self.batches else Pruned()

    async def rotate_partitions(
        self, now: datetime, before: datetime | None, span: int | None = None
    ) -> Pruned:
        self.rotated.append((now, before))
        return Pruned()


async def test_retention_is_off_unless_days_are_set() -> None:
    store = Store([Pruned(messages=1)])
    assert await retention.Pruner(store, 0).run_once(NOW) == Pruned()
    assert store.asked == []
    # The partitions ahead are still made: they take every insert (PostgreSQL).
    assert store.rotated == [(NOW, None)]


async def test_partitions_rotate_once_a_minute_before_the_batches() -> None:
    store = Store([])
    pruner = retention.Pruner(store, 30)
    for seconds in (0, 5, 30, 60, 65):
        await pruner.run_once(NOW + timedelta(seconds=seconds))
    cut = NOW - timedelta(days=30)
    assert store.rotated == [(NOW, cut), (NOW + timedelta(seconds=60), cut + timedelta(minutes=1))]
    assert len(store.asked) == 5  # the batches run every round


async def test_a_round_prunes_until_nothing_is_left_and_adds_up_what_left() -> None:
    store = Store([Pruned(messages=500, ledger=3), Pruned(messages=20, inbound=2)])
    assert await retention.Pruner(store, 30).run_once(NOW) == Pruned(520, 2, 3)
    cut = NOW - timedelta(days=30)
    assert store.asked == [(cut, retention.BATCH)] * 3  # the third came back empty


async def test_a_round_stops_after_its_share_of_batches() -> None:
    store = Store([Pruned(messages=retention.BATCH)] * (retention.BATCHES + 5))
    pruned = await retention.Pruner(store, 1).run_once(NOW)
    assert pruned.messages == retention.BATCH * retention.BATCHES
    assert len(store.asked) == retention.BATCHES
