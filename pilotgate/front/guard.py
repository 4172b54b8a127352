"""The connection budget of one server and who gives way at its limit (front/protocol.py)."""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("pilotgate.front")

#: Open files kept out of the connection budget: database, SMPP and SIP links, callbacks
#: (50 at once by default), mail, logs, the speech cache. At least this many, or a quarter.
RESERVED_FILES = 128


def connection_budget(wanted: int = 0) -> int:
    """Connections one process may hold: `wanted` (0 = as many as fit), never more than the
    open-files limit minus what the rest of the gateway needs."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fit = soft - max(RESERVED_FILES, soft // 4) if soft != resource.RLIM_INFINITY else 1 << 16
    budget = max(fit, 16)
    if wanted and wanted > budget:
        log.warning(
            "max_connections %d exceeds what %d open files allow; using %d", wanted, soft, budget
        )
    return min(wanted, budget) if wanted else budget


class Connection(Hashable, Protocol):
    transport: asyncio.Transport


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_connections: int
    max_head_bytes: int


class Guard:
    """What the connections of one server share: how many are open, and which of them wait
    for their client, oldest wait first (a dict keeps insertion order)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: set[Connection] = set()
        self.waiting: dict[Connection, None] = {}
        self.refusing = False

    def wait(self, connection: Connection) -> None:
        self.waiting.pop(connection, None)
        self.waiting[connection] = None

    def busy(self, connection: Connection) -> None:
        self.waiting.pop(connection, None)

    def admit(self, connection: Connection) -> bool:
        """Make room for `connection`; False when every open connection is busy."""
        if len(self.open) >= self.limits.max_connections:
            if not self.waiting:
                if not self.refusing:  # once per spell, not once per connection of a flood
                    log.warning("all %d connections busy: refusing new ones", len(self.open))
                    self.refusing = True
                return False
            oldest = next(iter(self.waiting))
            self.forget(oldest)
            oldest.transport.close()
        self.open.add(connection)
        self.refusing = False
        return True

    def forget(self, connection: Connection) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)
