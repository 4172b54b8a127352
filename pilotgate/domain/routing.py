"""Routing: which connectors may carry a message, and how fast (pipeline issue, item 2).

The routing table maps (prefix, channel) to connectors in order of preference; the longest
prefix wins, and the empty prefix matches every number. A route for channel "all" serves
every channel that has no route of its own at that prefix length. At dispatch time the first
usable (enabled, present) connector of the message's route takes it; the others are the
failover. A route may name an operator (issue 17): for a number the numbering plan says that
operator serves (ported ones included) such routes are looked up first, by the same rules.
Throughput is a token bucket per connector, shared by all processes through the
database; `grant` is its pure arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ALL_CHANNELS = "all"
MILLI = 1000  # tokens are counted in thousandths of a message, to stay integers


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    prefix: str
    channel: str
    connectors: tuple[str, ...]
    #: HLR answers for this destination are unreliable: HLRVIP checks also PING it.
    hlr_unreliable: bool = False
    #: Only for numbers this operator serves; "" for every number under the prefix.
    operator: str = ""


class RoutingTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes: dict[str, dict[tuple[str, str], Route]] = {}
        for r in routes:
            self._routes.setdefault(r.operator.casefold(), {})[(r.prefix, r.channel)] = r
        self._longest = max((len(p) for t in self._routes.values() for p, _ in t), default=0)

    def route(self, phone: str, channel: str, operator: str = "") -> Route | None:
        """The route of the longest matching prefix for `channel` (or "all") among the routes
        naming `operator`, else among those naming none; None when none matches."""
        if operator:
            found = self._match(self._routes.get(operator.casefold()), phone, channel)
            if found is not None:
                return found
        return self._match(self._routes.get(""), phone, channel)

    def _match(
        self, routes: dict[tuple[str, str], Route] | None, phone: str, channel: str
    ) -> Route | None:
        if not routes:
            return None
        for length in range(min(len(phone), self._longest), -1, -1):
            prefix = phone[:length]
            found = routes.get((prefix, channel)) or routes.get((prefix, ALL_CHANNELS))
            if found is not None:
                return found
        return None


def parse_connectors(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def choose(route: Iterable[str], usable: set[str]) -> str | None:
    """The first connector of the route that can take messages now (failover order)."""
    for name in route:
        if name in usable:
            return name
    return None


def grant(
    tokens: int, tokens_at: datetime | None, now: datetime, mps: int, want: int
) -> tuple[int, int]:
    """Token bucket: how many of `want` messages may go now, and the tokens left (in
    thousandths). The bucket refills at `mps` per second and holds at most one second's
    worth, so a burst never exceeds the limit for long. `mps` 0 means unlimited."""
    if mps <= 0:
        return want, tokens
    capacity = mps * MILLI
    elapsed_ms = 0 if tokens_at is None else max(0, int((now - tokens_at).total_seconds() * 1000))
    available = capacity if tokens_at is None else min(capacity, tokens + elapsed_ms * mps)
    granted = min(want, available // MILLI)
    return granted, available - granted * MILLI
