"""Referrals (contract §14): `r=<account id>` records the caller's referrer once, and the
referrer earns a share of what the referred account spends.

The share itself is booked by the database (migration 0007, a trigger on ledger rows) so
that every path that charges or refunds pays it in the same transaction; `commission` here is
the same rule, for the record and for the tests that hold the two together.
"""

from __future__ import annotations

#: Account ids are positive 64-bit integers; longer digit strings name no account.
_MAX_ID = 2**63 - 1


def referrer_id(raw: str | None, caller: int, current: int | None) -> int | None:
    """The account id an `r=` value asks to record as `caller`'s referrer, or None when
    nothing is to be recorded: no value, not a plain positive integer, the caller itself,
    or the caller already has a referrer (never changed later)."""
    if current is not None or raw is None:
        return None
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    candidate = int(value)
    if candidate <= 0 or candidate > _MAX_ID or candidate == caller:
        return None
    return candidate


def commission(amount: int, percent: int) -> int:
    """The referrer's share of a charge of `amount` kopecks: `percent` of it, rounded down
    to whole kopecks (a share is never more than the percentage promises)."""
    if amount <= 0 or percent <= 0:
        return 0
    return amount * percent // 100


def clawback(refund: int, percent: int, referrer_balance: int) -> int:
    """What a refund of `refund` kopecks takes back from the referrer: the share of it,
    but never more than the referrer still has (balances never go below zero)."""
    return min(commission(refund, percent), max(referrer_balance, 0))
