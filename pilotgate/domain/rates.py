"""Per-account rates (issue 16, item 1; contract §17.5): API requests per second, refused
past the limit with 223 and `Retry-After`, and messages per second leaving the queue, which
shapes (messages wait their turn) rather than refuses.

Both are token buckets in the database (`routing.grant`: refilled at the rate, holding one
second's worth), so a limit holds for every process and node on it. The API's bucket is not
written per request: a process takes a *slice* of tokens (a tenth of a second's worth) and
spends it locally, and while the bucket is empty it refuses locally until a slice has grown
back. Tokens a process took and did not spend within `LEASE` are dropped, never returned:
together the processes never pass the limit, and may fall short of it by at most one slice
per process per `LEASE` (docs/decisions.md, "Rates per account").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .routing import MILLI

#: The code of a refused request (the catalogue's "Spam protection"), answered with HTTP 429.
TOO_FAST = 223
#: What a refused caller is told to wait, in seconds: a token comes back within a second at
#: any rate of at least one per second.
RETRY_AFTER = 1
#: Slices a second's worth of API tokens is taken in: at most this many writes per second
#: per account and process, however many requests.
SLICES_PER_SECOND = 10
#: How long a process may spend tokens it took; unspent ones are dropped after it.
LEASE = timedelta(seconds=1)
#: The highest rate an operator may set (a bigint of thousandths holds far more).
MAX_RATE = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Rates:
    """One account's rates: None = the operator's default, 0 = no limit."""

    api_rps: int | None = None
    mps: int | None = None


DEFAULTS = Rates()


def parse_rate(raw: str) -> int | None:
    """ "default" or "" → None (the operator's), else a rate per second (0 = no limit).
    Raises ValueError."""
    raw = raw.strip().lower()
    if raw in ("", "default"):
        return None
    if not (raw.isdigit() and raw.isascii()) or int(raw) > MAX_RATE:
        raise ValueError(f"not a rate per second (0-{MAX_RATE}): {raw!r}")
    return int(raw)


def effective(own: int | None, default: int) -> int:
    """The rate that applies: the account's own, else the operator's; 0 = no limit."""
    return default if own is None else own


def slice_of(rps: int) -> int:
    """Tokens a process takes from the account's bucket at a time."""
    return max(1, math.ceil(rps / SLICES_PER_SECOND))


@dataclass(frozen=True, slots=True)
class Lease:
    """API tokens one process holds for one account: `tokens` to spend until `until`; or,
    `refused`, none, and the database is asked again only from `until` on."""

    tokens: int
    until: datetime
    refused: bool = False

    def spend(self, now: datetime) -> Lease | None:
        """The lease after spending one token now, None when it has none to spend."""
        if self.refused or self.tokens <= 0 or now >= self.until:
            return None
        return Lease(self.tokens - 1, self.until)

    def ask_again(self, now: datetime) -> bool:
        """Whether to ask the database for tokens (rather than refuse at once)."""
        return not self.refused or now >= self.until


def lease(granted: int, left: int, rps: int, now: datetime) -> Lease:
    """What a process holds after the bucket granted `granted` tokens and kept `left`
    thousandths: the granted ones for `LEASE`; after a refusal, nothing until the bucket
    holds a slice again (so a flood of refused requests costs no database write each)."""
    if granted > 0:
        return Lease(granted, now + LEASE)
    missing = max(0, slice_of(rps) * MILLI - left)
    return Lease(0, now + timedelta(milliseconds=math.ceil(missing / rps)), refused=True)


def pause(left: int, mps: int, waiting: int) -> timedelta:
    """How long an account's messages stay in the queue once its send bucket (`left`
    thousandths) could not take `waiting` more: until it holds the next second's share
    (at most `mps`), so a busy account is claimed at most about once a second instead of
    every round, and its waiting messages never sit in front of other accounts'."""
    wanted = min(max(waiting, 1), mps) * MILLI
    return timedelta(milliseconds=math.ceil(max(0, wanted - left) / mps))
