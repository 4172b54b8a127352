"""Referrals: which `r=` values are recorded, and the commission rule."""

from __future__ import annotations

import pytest

from pilotgate.domain import referrals


@pytest.mark.parametrize(
    ("raw", "caller", "current", "expected"),
    [
        ("7", 5, None, 7),
        (" 7 ", 5, None, 7),
        ("5", 5, None, None),  # never self
        ("7", 5, 3, None),  # never changed later
        (None, 5, None, None),
        ("", 5, None, None),
        ("0", 5, None, None),
        ("-7", 5, None, None),
        ("7a", 5, None, None),
        ("٧", 5, None, None),  # an Arabic-Indic seven is a digit, but not ours
        ("9" * 19, 5, None, None),  # beyond 64 bits
        ("1" * 40, 5, None, None),
    ],
)
def test_referrer_id(raw, caller, current, expected):
    assert referrals.referrer_id(raw, caller, current) == expected


def test_commission_is_rounded_down_in_kopecks():
    assert referrals.commission(395, 10) == 39
    assert referrals.commission(1000, 10) == 100
    assert referrals.commission(9, 10) == 0
    assert referrals.commission(395, 0) == 0
    assert referrals.commission(-395, 10) == 0


def test_clawback_never_exceeds_the_share_nor_the_balance():
    assert referrals.clawback(395, 10, 1000) == 39
    assert referrals.clawback(395, 10, 20) == 20
    assert referrals.clawback(395, 10, 0) == 0


def test_shares_of_parts_never_exceed_the_share_of_the_whole():
    # Refunds of single messages of a charged packet never take back more than was paid.
    prices = [395, 435, 395, 1]
    assert sum(referrals.commission(p, 15) for p in prices) <= referrals.commission(sum(prices), 15)
