"""A scheduled message replaced by its owner (SMPP replace_sm, SMPP 3.4 §4.10): what changes
and what the change costs. Pure (docs/decisions.md "Replacing a scheduled message").

The message keeps the rate per part it was accepted at: a new text of another number of
parts costs that rate times its parts, and the difference is charged or refunded. A tariff
changed since the submit does not reprice it (the customer was told the price then), and the
price stays exactly `rate × parts` as every submit stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Replacement:
    """A scheduled message's new text, schedule, validity and receipt wish, and its price."""

    text: str
    parts: int
    price: int
    send_datetime: datetime
    ttl: int | None
    expires_at: datetime
    smpp_receipt: int


def repriced(price: int, parts: int, new_parts: int) -> int:
    """The price of `new_parts` parts of a message stored at `price` for `parts` parts."""
    if parts <= 0:
        return price  # never stored so, but never a division by zero
    return price // parts * new_parts
