"""Writes the database refused, kept in memory and done again when it is back.

A connector that took a message has done something we cannot undo; recording that is a
write like any other, and during a database outage it fails. Dropping it would leave the
message claimed and unrecorded until it ended as if nobody had it (issue 12: 11 of 2,001
messages a 40 s PostgreSQL outage turned from delivered into failed). Instead the write waits
here, in the order it was made, and is retried with backoff until it goes through:

    add(write) ──> flush() ──> done, in order
                       └─ GatewayError ──> kept (with the ones after it); the next flush
                                           waits `first` seconds, doubling up to `cap`

Only the process keeps these: a process killed meanwhile loses them, and its messages end
as "hand-over unknown" (docs/decisions.md). A write that failed may have committed before the
connection broke, so it must be safe to do twice: hand-overs, refusals, releases and
receipts are conditional on the state they change (a second run changes nothing); only the
connectors' hand-over counters may count a batch twice.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pilotgate.errors import GatewayError

log = logging.getLogger("pilotgate.backlog")

Write = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class _Entry:
    what: str
    write: Write


class Backlog:
    def __init__(
        self,
        name: str,
        *,
        first: float = 0.2,
        cap: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._entries: deque[_Entry] = deque()
        self._first = first
        self._cap = cap
        self._clock = clock
        self._delay = 0.0
        self._next_try = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, what: str, write: Write) -> None:
        """Queue `write` (described by `what` in the log) behind the ones already waiting."""
        self._entries.append(_Entry(what, write))

    async def flush(self, *, force: bool = False) -> bool:
        """Do the waiting writes in order; True when none is left. While backing off after a
        failure it tries nothing (unless `force`) and answers False."""
        if not self._entries:
            return True
        if not force and self._clock() < self._next_try:
            return False
        while self._entries:
            entry = self._entries[0]
            try:
                await entry.write()
            except GatewayError as exc:
                # Keep it and everything after it: the order of hand-overs, refusals and
                # releases is the order they happened in.
                self._delay = min(self._cap, max(self._first, self._delay * 2))
                self._next_try = self._clock() + self._delay
                log.warning(
                    "%s: %s not recorded (%s); %d write(s) kept, next try in %.1f s",
                    self._name,
                    entry.what,
                    exc,
                    len(self._entries),
                    self._delay,
                )
                return False
            self._entries.popleft()
        if self._delay:
            log.info("%s: every kept write recorded", self._name)
        self._delay = 0.0
        return True
