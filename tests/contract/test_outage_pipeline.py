"""A database outage in the middle of the pipeline's work (issue 12, item 3), on every
backend: the store is wrapped so that every call fails while it is "down", the way a
PostgreSQL restart makes them fail. A connector that took messages during the outage has
them: their hand-overs, refusals, receipts and callback results wait in the process and are
recorded when the database is back, so every message ends as the connector said, never as
expired or unknown."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import pytest

from pilotgate.connectors.base import Accepted, Events, LinkState, Outcome, Rejected
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.receipts import Receipt
from pilotgate.errors import StorageError
from pilotgate.pipeline.connector_pool import ConnectorPool
from pilotgate.pipeline.links import LinkKeeper
from pilotgate.pipeline.outbox import Outbox
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, balance, draft, new_account, statuses


class Flaky:
    """A Store whose every call raises StorageError while `down` (an outage)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = False
        self.refused = 0  # calls refused while down

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.refused += 1
                raise StorageError("connection refused (test outage)")
            return await method(*args, **kwargs)

        return call


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class _Link:
    """Takes numbers ending in 1 (a receipt tells the outcome later), delivers numbers
    ending in 2 with a known outcome, refuses numbers ending in 9 for good; the database
    goes down the moment it has them."""

    def __init__(self, flaky: Flaky) -> None:
        self.name = "smsc"
        self.flaky = flaky
        self.events: Events | None = None
        self.taken: list[int] = []

    async def start(self, events: Events) -> None:
        self.events = events

    async def stop(self) -> None:
        self.events = None

    def state(self) -> LinkState:
        return LinkState(bound=self.events is not None, window=10)

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for m in messages:
            self.taken.append(m.server_id)
            if m.phone.endswith("9"):
                outcomes.append(Rejected(server_id=m.server_id, error=221, final=True))
            elif m.phone.endswith("2"):
                outcomes.append(
                    Accepted(
                        server_id=m.server_id,
                        remote_id=f"r{m.server_id}",
                        outcome_status=Status.DELIVERED,
                        outcome_at=now + SECOND,
                    )
                )
            else:
                outcomes.append(Accepted(server_id=m.server_id, remote_id=f"r{m.server_id}"))
        self.flaky.down = True
        return outcomes


async def _worker(flaky: Flaky, clock: Clock, link: _Link) -> tuple[Outbox, LinkKeeper]:
    pool = ConnectorPool(lambda info: link if info.name == "smsc" else None)
    # poll_interval=0: no backoff between retries, so the test needs no real time to pass.
    # Flaky forwards every attribute (__getattr__), so it is a Store to its callers.
    store = cast(Store, flaky)
    outbox = Outbox(store, pool, clock, poll_interval=0, unknown_after=60)
    keeper = LinkKeeper(store, pool, clock, outbox.owner)
    await keeper.run_once()
    return outbox, keeper


async def test_an_outage_after_the_hand_over_changes_no_outcome(store: Store) -> None:
    account = await new_account(store, balance=10_000)
    await store.save_connector("smsc", "smpp", "{}", 0)
    flaky, clock = Flaky(store), Clock()
    link = _Link(flaky)
    outbox, keeper = await _worker(flaky, clock, link)
    receipted, known, refused = (
        await store.submit(
            account.id,
            [
                draft("79001234561", route="smsc", price=100),
                draft("79001234562", route="smsc", price=100),
                draft("79001234569", route="smsc", price=100),
            ],
            NOW,
        )
    ).server_ids

    with pytest.raises(StorageError):  # the link takes all three; then the database is gone
        await outbox.run_once()
    assert link.taken == [receipted, known, refused]
    assert flaky.refused > 0
    # The outage lasts well past the lease and the unknown-after time. The link's receipt
    # arrives meanwhile: refused (an SMSC would send it again), and kept.
    clock.now = NOW + LEASE + 120 * SECOND
    with contextlib.suppress(StorageError):  # a round changes nothing while it is away
        assert await outbox.run_once() == 0
    with pytest.raises(StorageError):
        await keeper.receipts("smsc", [Receipt(remote_id=f"r{receipted}", status=Status.DELIVERED)])
    with pytest.raises(StorageError):
        await keeper.run_once()

    # Another worker, back with the database first, must neither hand them over again nor
    # end them as unknown: their owner is alive and records them within a round.
    flaky.down = False
    other_link = _Link(Flaky(store))
    other, _ = await _worker(Flaky(store), clock, other_link)
    await other.run_once()
    assert other_link.taken == []
    await keeper.run_once()  # the kept receipt: stored until its hand-over is recorded
    await outbox.run_once()
    clock.now += 2 * SECOND  # the known outcome comes due
    await outbox.run_once()

    assert await statuses(store, account.id, [receipted, known, refused]) == {
        receipted: Status.DELIVERED,
        known: Status.DELIVERED,
        refused: Status.ERROR,
    }
    assert await balance(store, account.id) == 10_000 - 200  # the refused one refunded
    stats = await store.queue_stats(clock.now)
    assert (stats.in_doubt, stats.handover_unknown) == (0, 0)
    assert link.taken == [receipted, known, refused]  # each handed over once


async def test_a_worker_ends_in_doubt_messages_of_a_dead_one_as_unknown(store: Store) -> None:
    account = await new_account(store, balance=10_000)
    await store.save_connector("smsc", "smpp", "{}", 0)
    ids = (
        await store.submit(account.id, [draft("79001234561", route="smsc", price=100)], NOW)
    ).server_ids
    # A worker claimed it and died before recording its hand-over.
    assert len(await store.claim("dead", NOW, NOW + LEASE, 10)) == 1
    clock = Clock()
    link = _Link(Flaky(store))
    outbox, _ = await _worker(Flaky(store), clock, link)
    await outbox.run_once()
    clock.now = NOW + LEASE + 59 * SECOND  # the lease is over, but not for a minute yet
    await outbox.run_once()
    assert await statuses(store, account.id, ids) == {ids[0]: Status.ACCEPTED}
    clock.now = NOW + LEASE + 61 * SECOND
    await outbox.run_once()
    assert await statuses(store, account.id, ids) == {ids[0]: Status.UNDELIVERED}
    assert [m.error for m in await store.messages_by_ids(ids)] == [606]
    assert link.taken == []  # never handed over again


async def test_claims_whose_answer_was_lost_go_back_to_the_queue(store: Store) -> None:
    """A claim that committed but whose answer the outage swallowed: this worker still
    leases messages no connector has; its first round after the outage gives them back."""
    account = await new_account(store, balance=10_000)
    await store.save_connector("smsc", "smpp", "{}", 0)
    clock = Clock()
    flaky = Flaky(store)
    link = _Link(Flaky(store))
    outbox, _ = await _worker(flaky, clock, link)
    await outbox.run_once()
    ids = (
        await store.submit(account.id, [draft("79001234561", route="smsc", price=100)], NOW)
    ).server_ids
    assert len(await store.claim(outbox.owner, NOW, NOW + LEASE, 10)) == 1  # answer "lost"
    flaky.down = True
    with pytest.raises(StorageError):
        await outbox.run_once()
    flaky.down = False
    await outbox.run_once()
    assert link.taken == ids
    assert await statuses(store, account.id, ids) == {ids[0]: Status.HANDED_OVER}
