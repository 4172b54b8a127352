"""Two-way SMS (`from=2WAY`, contract §13.5): which pool number a message goes from.

A reply is linked to the newest 2WAY message from its destination number to its sender's
phone, so two open conversations with one phone on one number would make replies ambiguous:
a phone gets a number it has no open conversation on whenever the pool has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

#: The `from` value that asks for a two-way SMS; stored as the message's `sender_orig`.
TWO_WAY = "2WAY"


def for_route(pool: Sequence[tuple[str, str, str]], route: Sequence[str]) -> list[tuple[str, str]]:
    """The (number, prefix) entries of a pool of (number, prefix, connector) that a message
    routed over `route` (connector names) may go from: numbers of no particular connector
    (''), and those of a connector of the route. A number belongs to a connector when that
    link owns it at the operator: sent from it, the message must leave through that link,
    which is also where the replies come in."""
    usable = set(route)
    return [(number, prefix) for number, prefix, connector in pool if connector in usable | {""}]


def candidates(phone: str, pool: Sequence[tuple[str, str]]) -> list[str]:
    """The (number, prefix) pool entries serving `phone`: those with the longest prefix that
    `phone` starts with ('' serves every phone); without any, the whole pool."""
    matching = [(number, prefix) for number, prefix in pool if phone.startswith(prefix)]
    if not matching:
        return sorted(number for number, _ in pool)
    longest = max(len(prefix) for _, prefix in matching)
    return sorted(number for number, prefix in matching if len(prefix) == longest)


def pick(
    phone: str,
    pool: Sequence[tuple[str, str]],
    open_: Mapping[tuple[str, str], datetime],
) -> str | None:
    """The number to send a 2WAY message to `phone` from: the first candidate with no open
    conversation with `phone` (`open_`: (phone, number) → newest 2WAY message), else the one
    whose conversation is the oldest. None when the pool is empty."""
    numbers = candidates(phone, pool)
    if not numbers:
        return None
    free = [n for n in numbers if (phone, n) not in open_]
    if free:
        return free[0]
    return min(numbers, key=lambda n: (open_[(phone, n)], n))
