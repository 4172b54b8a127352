"""Values the gateway reads at most once per `tariff_cache_seconds` (tariffs, the routing
table, each account's protections and rates), with one read in flight per value.

Why one read in flight: the cache is checked before the read is awaited, so while one read
waits on the database every other request that finds the value expired starts its own. In
PostgreSQL under 50 concurrent sends that was up to 50 reads of the whole tariff each time
it expired (py-spy: 3.4 % of the serving process, docs/performance.md); now the requests that
find it expired wait for the one read under way. They get the value read after they asked
or a fresher one, never an older one than before. `forget` (this process changed the value)
also drops a read under way, so the next request reads again and sees the change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Fresh(Generic[Key, Value]):
    """Values by key, each read again once older than `max_age`."""

    def __init__(self, clock: Callable[[], datetime], max_age: float) -> None:
        self._clock = clock
        self._max_age = timedelta(seconds=max_age)
        self._values: dict[Key, tuple[Value, datetime]] = {}
        self._reading: dict[Key, asyncio.Future[Value]] = {}

    async def get(self, key: Key, read: Callable[[], Awaitable[Value]]) -> Value:
        """The value of `key`, read with `read()` when missing or too old."""
        now = self._clock()
        cached = self._values.get(key)
        if cached is not None and now - cached[1] < self._max_age:
            return cached[0]
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key, read, now))
            self._reading[key] = reading
        # Shielded: a caller that goes away (its client disconnected) must not cancel the
        # read the others wait for.
        return await asyncio.shield(reading)

    async def _read(self, key: Key, read: Callable[[], Awaitable[Value]], now: datetime) -> Value:
        mine = asyncio.current_task()
        try:
            value = await read()
        except BaseException:
            if self._reading.get(key) is mine:
                del self._reading[key]  # the next request tries again
            raise
        if self._reading.get(key) is mine:  # else forgotten meanwhile: not kept
            del self._reading[key]
            self._values[key] = (value, now)
        return value

    def forget(self, key: Key) -> None:
        """Read `key` afresh on its next use, also when a read is under way."""
        self._values.pop(key, None)
        self._reading.pop(key, None)
