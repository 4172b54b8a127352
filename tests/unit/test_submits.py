"""The pure decisions of submit's group commit (domain/submits.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from pilotgate.domain import submits
from pilotgate.domain.messages import Draft, Status


def draft(price: int, status: Status = Status.ACCEPTED) -> Draft:
    return Draft(
        phone="79990000001", sender="INFORM", text="hi", parts=1, channel="sms", price=price,
        status=status, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, country="RU", operator="", test=False,
    )  # fmt: skip


def test_submits_are_grouped_by_account_in_account_order_each_in_request_order():
    assert submits.by_account([7, 3, 7, 5, 3]) == [[1, 4], [3], [0, 2]]
    assert submits.by_account([]) == []


def test_held_messages_are_covered_by_the_balance_but_not_charged():
    drafts = [draft(100), draft(250, Status.HELD), draft(40)]
    assert submits.cost(drafts) == (140, 390)


def test_each_balance_is_as_if_debited_one_after_the_other():
    # 1,000 left after one debit of 100 + 0 + 250: 1,350 before.
    assert submits.balances(1000, [100, 0, 250]) == [1250, 1250, 1000]
    assert submits.balances(5, []) == []


def test_a_day_is_whole_days_since_the_epoch_in_utc():
    assert submits.day(datetime(1970, 1, 1, 23, 59, tzinfo=UTC)) == 0
    assert submits.day(datetime(2026, 12, 6, 0, 0, tzinfo=UTC)) == 20_793


def test_new_messages_are_counted_and_summed_per_account_day_status_and_operator():
    rows = [(2, 9, 0, "mts", 100), (1, 9, 0, "", 50), (2, 9, 0, "mts", 120), (2, 9, 4, "mts", 7)]
    assert submits.day_groups(rows) == [
        (1, 9, 0, "", 1, 50),
        (2, 9, 0, "mts", 2, 220),
        (2, 9, 4, "mts", 1, 7),
    ]
