"""Hybrid Viber (`from=VIBERSMS`, contract §13.4): a Viber message that becomes an SMS from the
account's default sender when its Viber attempt fails.

The plan is decided at send time, while the tariff and routes are at hand, and stored with
the message (one text column); the store carries it out when the Viber attempt fails:

    0 accepted ──> 1 handed to Viber ──> 2 delivered (Viber price)
         │                 └── receipt or outcome -1 ──┐
         └── connector refuses it for good ────────────┴──> 0 accepted again, as an SMS:
                                                              channel sms, the plan's sender,
                                                              parts, route and price; same
                                                              server_id; sender_orig VIBERSMS

Every failure of the Viber leg falls back: all of them happen before delivery (no Viber,
rejected, expired on the Viber side, unknown to the upstream). Only our own expiry does not:
once the message's validity has run out an SMS would be as late. The price difference is
debited (or credited) through the ledger when the fallback happens; an account that cannot
pay the difference then gets no fallback, and the message ends with the Viber leg's error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

#: The `from` value that asks for Viber with an SMS fallback; the fallen-back message's
#: `sender_orig`.
VIBERSMS = "VIBERSMS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fallback:
    """What a VIBERSMS message becomes when its Viber attempt fails."""

    sender: str
    parts: int
    price: int  #: kopecks, the SMS price that replaces the Viber one
    route: str  #: the SMS route's connectors, comma-separated


def encode(plan: Fallback | None) -> str:
    """The stored form ('' = no fallback)."""
    if plan is None:
        return ""
    return json.dumps(
        {"sender": plan.sender, "parts": plan.parts, "price": plan.price, "route": plan.route},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def decode(stored: str) -> Fallback | None:
    """The plan `encode` stored, or None for '' (and for anything unreadable: a message
    without a readable plan simply has no fallback)."""
    if not stored:
        return None
    try:
        raw = json.loads(stored)
        return Fallback(
            sender=str(raw["sender"]),
            parts=int(raw["parts"]),
            price=int(raw["price"]),
            route=str(raw["route"]),
        )
    except (ValueError, TypeError, KeyError):
        return None


def ledger_entry(viber_price: int, plan: Fallback) -> tuple[int, str] | None:
    """The ledger row a fallback writes: (amount, kind), amount negative for a debit, or None
    when both prices are equal. A debit is a `send` row and a credit a `refund` row, so a
    referrer's share follows the difference like any charge (domain/referrals.py)."""
    difference = plan.price - viber_price
    if difference == 0:
        return None
    return (-difference, "send") if difference > 0 else (-difference, "refund")
