"""The pure rules of per-account rates (domain/rates.py): what an operator may type, the
slices a process takes, the local lease that spares the database a write per request, and
how long a shaped account's messages wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.domain import rates

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "rate"),
    [("", None), ("default", None), (" Default ", None), ("0", 0), ("25", 25), ("1000000", 10**6)],
)
def test_a_typed_rate(raw: str, rate: int | None) -> None:
    assert rates.parse_rate(raw) == rate


@pytest.mark.parametrize("raw", ["-1", "1.5", "ten", "1000001", "٣"])
def test_a_rate_that_is_not_one_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="rate per second"):
        rates.parse_rate(raw)


def test_the_account_rate_wins_over_the_default() -> None:
    assert rates.effective(None, 50) == 50
    assert rates.effective(0, 50) == 0  # its own "no limit"
    assert rates.effective(5, 50) == 5


@pytest.mark.parametrize(
    ("rps", "size"), [(1, 1), (9, 1), (10, 1), (11, 2), (100, 10), (5000, 500)]
)
def test_a_slice_is_a_tenth_of_a_second(rps: int, size: int) -> None:
    assert rates.slice_of(rps) == size


def test_a_granted_lease_is_spent_one_request_at_a_time_until_it_runs_out() -> None:
    held = rates.lease(granted=2, left=0, rps=20, now=NOW)
    first = held.spend(NOW)
    assert first is not None
    second = first.spend(NOW + timedelta(milliseconds=10))
    assert second is not None
    assert second.spend(NOW) is None
    # Spent, not refused: the next request asks the database at once.
    assert second.ask_again(NOW)


def test_tokens_not_spent_within_the_lease_are_dropped() -> None:
    held = rates.lease(granted=5, left=0, rps=50, now=NOW)
    assert held.spend(NOW + rates.LEASE) is None
    assert held.ask_again(NOW + rates.LEASE)


def test_a_refusal_is_answered_locally_until_a_slice_has_grown_back() -> None:
    # 10 per second, slices of 1: an empty bucket holds a token again in 100 ms.
    refused = rates.lease(granted=0, left=0, rps=10, now=NOW)
    assert refused.spend(NOW) is None
    assert not refused.ask_again(NOW + timedelta(milliseconds=99))
    assert refused.ask_again(NOW + timedelta(milliseconds=100))
    # Half a token already there: half the wait.
    half = rates.lease(granted=0, left=500, rps=10, now=NOW)
    assert half.until == NOW + timedelta(milliseconds=50)


def test_a_shaped_account_waits_for_its_next_share_at_most_a_second() -> None:
    assert rates.pause(left=0, mps=10, waiting=1) == timedelta(milliseconds=100)
    assert rates.pause(left=0, mps=10, waiting=500) == timedelta(seconds=1)
    assert rates.pause(left=2500, mps=10, waiting=3) == timedelta(milliseconds=50)
    assert rates.pause(left=5000, mps=10, waiting=2) == timedelta(0)
