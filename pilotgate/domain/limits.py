"""Message caps per account (issue 16): at most so many messages per UTC day and per UTC
month; a submit that would pass either is refused whole with error 223 ("Spam protection"),
nothing stored or charged. Counted in the submit's own transaction, so the caps hold across
processes; only messages that go out count (a recipient refused with an error does not).

`SubmitGuard` is what a submit must respect besides the balance: its idempotency claim, the
caps and the SMS-pumping rules, all checked in the transaction that stores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .idempotency import Claim
from .messages import Draft
from .pumping import Velocity

CAP_REACHED = 223
DAY = "day"
MONTH = "month"


@dataclass(frozen=True, slots=True)
class Caps:
    """Messages per UTC day and month; 0 = no cap."""

    day: int = 0
    month: int = 0

    def __bool__(self) -> bool:
        return self.day > 0 or self.month > 0


@dataclass(frozen=True, slots=True)
class SubmitGuard:
    claim: Claim | None = None
    caps: Caps | None = None
    #: The SMS-pumping rules the submit's messages are judged by (domain/pumping.py).
    velocity: Velocity | None = None

    @property
    def locks(self) -> bool:
        """The claim or the caps: checks that need the account's row locked first."""
        return self.claim is not None or bool(self.caps)


def counted(drafts: Sequence[Draft]) -> int:
    """The messages of a submit that count against the caps: those that go out."""
    return sum(1 for d in drafts if not d.error)


def periods(caps: Caps, now: datetime) -> list[tuple[str, datetime, int]]:
    """(period, its UTC start, cap) for each cap that is set."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    found = []
    if caps.day > 0:
        found.append((DAY, day, caps.day))
    if caps.month > 0:
        found.append((MONTH, day.replace(day=1), caps.month))
    return found
