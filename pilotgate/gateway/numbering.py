"""Each process's snapshot of the numbering plan (issue 17): loaded from the database, which
is the one source of truth, and reloaded when an import bumps the plan's version.

The version is read at most every `ttl` seconds (one indexed row). The first load is awaited
(a send must not be routed by a plan it has not read yet); later reloads run in the
background while lookups keep using the previous snapshot, so an import of 2·10⁷ ported
numbers never stalls the sends of the process that notices it.

Every snapshot carries the shipped mobile ranges of the CIS countries
(`pilotgate/data/cis_ranges.csv`, read once per process), so their numbers get their operator
too.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources

from pilotgate.domain.numbering import Builder, Numbering
from pilotgate.domain.prefixes import PrefixTable
from pilotgate.storage.roles import NumberingStore

log = logging.getLogger(__name__)
#: Ported numbers read per statement while loading.
PAGE = 100_000


@functools.cache
def cis_ranges() -> PrefixTable:
    """The shipped mobile ranges of the CIS countries, read once per process."""
    text = resources.files("pilotgate.data").joinpath("cis_ranges.csv").read_text("utf-8")
    return PrefixTable.parse(text)


async def load(store: NumberingStore, abroad: PrefixTable | None = None) -> Numbering:
    """The plan as the database has it now. Read in pages straight into the snapshot's
    arrays; if an import commits meanwhile (the version moved), read again: a snapshot is
    never half of two plans."""
    while True:
        version = await store.numbering_version()
        builder = Builder(await store.plan_ranges())
        after = -1
        while page := await store.ported_after(after, PAGE):
            builder.add_ports(page)
            after = page[-1][0]
        if await store.numbering_version() == version:
            return builder.finish(version, abroad)


class NumberingCache:
    """The process's current snapshot, checked against the database's version."""

    def __init__(
        self, store: NumberingStore, clock: Callable[[], datetime], ttl_seconds: float
    ) -> None:
        self._store, self._clock = store, clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._abroad = cis_ranges()
        self._current = Numbering.empty(self._abroad)
        self._checked: datetime | None = None
        self._loading: asyncio.Task[None] | None = None
        self._first = asyncio.Lock()

    @property
    def current(self) -> Numbering:
        return self._current

    def adopt(self, snapshot: Numbering) -> None:
        """Start from a snapshot loaded before this process was forked (`serve --workers N`):
        its arrays stay pages shared with the other workers until an import replaces it (the
        first check still compares its version with the database's)."""
        self._current = snapshot

    async def fresh(self) -> Numbering:
        """The snapshot, reloaded if the database holds a newer plan."""
        now = self._clock()
        if self._checked is not None and now - self._checked < self._ttl:
            return self._current
        self._checked = now
        version = await self._store.numbering_version()
        if version == self._current.version:
            return self._current
        if self._current.version == 0:
            async with self._first:  # concurrent first sends wait for one load
                if self._current.version == 0:
                    self._current = await load(self._store, self._abroad)
        elif self._loading is None or self._loading.done():
            self._loading = asyncio.create_task(self._reload())
        return self._current

    async def settled(self) -> Numbering:
        """The snapshot once a background reload under way has finished (for tests and the
        CLI; sends never wait for it)."""
        if self._loading is not None:
            await asyncio.shield(self._loading)
        return self._current

    async def _reload(self) -> None:
        try:
            self._current = await load(self._store, self._abroad)
        except Exception:  # the next check tries again; sends go on with the old plan
            log.exception("reloading the numbering plan failed")
            self._checked = None
