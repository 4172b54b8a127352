"""Money is an integer number of kopecks. Strings like "1.31" exist only at the edges."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"(-)?([0-9]{1,12})(?:[.,]([0-9]{1,2}))?")


def parse(text: str) -> int:
    """ "1.31" → 131, "5" → 500, "-0.5" → -50. Raises ValueError on anything else
    (more than two decimals included: a price never hides a fraction of a kopeck)."""
    # [0-9], not \d: '١٢' or '²' are digits to Unicode, not amounts to a customer.
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an amount of money: {text!r}")
    sign, whole, frac = match.groups()
    kopecks = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -kopecks if sign else kopecks


def format(kopecks: int) -> str:
    """131 → "1.31", 0 → "0.00", -5 → "-0.05"."""
    sign = "-" if kopecks < 0 else ""
    whole, frac = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{frac:02d}"
