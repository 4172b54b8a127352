"""The gateway's cached reads (gateway/fresh.py): one read in flight per value, as fresh as
before, and `forget` honoured even while a read is under way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.gateway.fresh import Fresh


class Source:
    """A database stand-in whose reads wait until the test lets them finish."""

    def __init__(self) -> None:
        self.reads = 0
        self.value = "v1"
        self.gate = asyncio.Event()
        self.fail = False

    async def read(self) -> str:
        self.reads += 1
        value = self.value  # what the database holds when the read is made
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("database away")
        return value


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_concurrent_callers_of_an_expired_value_share_one_read() -> None:
    source, clock = Source(), Clock()
    fresh: Fresh[int, str] = Fresh(clock, 5.0)
    waiting = [asyncio.ensure_future(fresh.get(1, source.read)) for _ in range(50)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 50
    assert source.reads == 1
    # Within max_age: no read at all; past it: read again, once.
    assert await fresh.get(1, source.read) == "v1"
    assert source.reads == 1
    source.value = "v2"
    clock.now += timedelta(seconds=5)
    again = await asyncio.gather(*(fresh.get(1, source.read) for _ in range(10)))
    assert again == ["v2"] * 10
    assert source.reads == 2


async def test_keys_are_read_apart() -> None:
    source, clock = Source(), Clock()
    source.gate.set()
    fresh: Fresh[int, str] = Fresh(clock, 5.0)
    await asyncio.gather(fresh.get(1, source.read), fresh.get(2, source.read))
    assert source.reads == 2


async def test_forget_during_a_read_makes_the_next_caller_read_the_change() -> None:
    source, clock = Source(), Clock()
    fresh: Fresh[int, str] = Fresh(clock, 5.0)
    early = asyncio.ensure_future(fresh.get(1, source.read))
    while source.reads < 1:  # noqa: ASYNC110 - the read under way has started
        await asyncio.sleep(0)
    source.value = "changed"  # this process changes it and forgets the cached value
    fresh.forget(1)
    late = asyncio.ensure_future(fresh.get(1, source.read))
    while source.reads < 2:  # noqa: ASYNC110
        await asyncio.sleep(0)
    source.gate.set()
    assert await early == "v1"  # asked before the change
    assert await late == "changed"
    assert source.reads == 2
    assert await fresh.get(1, source.read) == "changed"  # the stale read was not kept
    assert source.reads == 2


async def test_a_failed_read_reaches_every_waiter_and_the_next_caller_tries_again() -> None:
    source, clock = Source(), Clock()
    fresh: Fresh[int, str] = Fresh(clock, 5.0)
    source.fail = True
    waiting = [asyncio.ensure_future(fresh.get(1, source.read)) for _ in range(3)]
    await asyncio.sleep(0)
    source.gate.set()
    for one in waiting:
        with pytest.raises(RuntimeError):
            await one
    source.fail = False
    assert await fresh.get(1, source.read) == "v1"
    assert source.reads == 2


async def test_a_caller_that_goes_away_does_not_cancel_the_others_read() -> None:
    source, clock = Source(), Clock()
    fresh: Fresh[int, str] = Fresh(clock, 5.0)
    leaving = asyncio.ensure_future(fresh.get(1, source.read))
    staying = asyncio.ensure_future(fresh.get(1, source.read))
    await asyncio.sleep(0)
    leaving.cancel()
    source.gate.set()
    assert await staying == "v1"
    assert source.reads == 1
