"""Writes the database refused wait in order and are done when it is back (issue 12, item 3):
the outbox's Backlog, and the callback worker's results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from pilotgate.errors import StorageError
from pilotgate.pipeline.backlog import Backlog
from pilotgate.pipeline.callback_http import AddressPolicy
from pilotgate.pipeline.callbacks import CallbackWorker
from pilotgate.storage.base import CallbackResult

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Database:
    def __init__(self) -> None:
        self.down = False
        self.done: list[str] = []

    async def write(self, what: str) -> None:
        if self.down:
            raise StorageError("down")
        self.done.append(what)


async def test_kept_writes_are_done_in_order_after_the_backoff() -> None:
    db, now = Database(), [0.0]
    backlog = Backlog("test", first=1.0, cap=4.0, clock=lambda: now[0])
    db.down = True
    for what in ("a", "b", "c"):
        backlog.add(what, lambda what=what: db.write(what))  # type: ignore[misc]
    assert not await backlog.flush()
    assert len(backlog) == 3
    db.down = False
    assert not await backlog.flush()  # backing off: 1 s not over yet
    assert db.done == []
    now[0] = 1.0
    assert await backlog.flush()
    assert db.done == ["a", "b", "c"] and len(backlog) == 0


async def test_the_backoff_doubles_up_to_its_cap_and_force_ignores_it() -> None:
    db, now = Database(), [0.0]
    backlog = Backlog("test", first=1.0, cap=4.0, clock=lambda: now[0])
    db.down = True
    backlog.add("a", lambda: db.write("a"))
    for expected in (1.0, 2.0, 4.0, 4.0):
        assert not await backlog.flush(force=True)
        assert backlog._next_try == now[0] + expected
    db.down = False
    assert await backlog.flush(force=True)
    assert db.done == ["a"]


class _Store:
    def __init__(self) -> None:
        self.down = True
        self.finished: list[int] = []

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        if self.down:
            raise StorageError("down")
        self.finished += [r.job_id for r in results]
        return len(results)


async def test_callback_results_are_kept_through_an_outage() -> None:
    """Dropped, each acknowledged callback would be sent again when its lease ran out."""
    store = _Store()
    worker = CallbackWorker(store, lambda: NOW, AddressPolicy())  # type: ignore[arg-type]
    worker._finished = [CallbackResult(job_id=1, acknowledged=True)]
    with pytest.raises(StorageError):
        await worker._flush()
    worker._finished.append(CallbackResult(job_id=2, acknowledged=True))
    store.down = False
    await worker._flush()
    assert store.finished == [1, 2]
