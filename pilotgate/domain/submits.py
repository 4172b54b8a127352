"""The pure decisions of `submit`'s group commit (storage/sql/submitting.py runs them in its
transaction): which submits one debit covers, what each costs, each one's balance after a
debit for several, and what the batch adds to the per-day statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from . import pumping
from .messages import Draft

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def by_account(accounts: Sequence[int]) -> list[list[int]]:
    """The submits' indexes (submit i is of account `accounts[i]`) grouped by account, in
    account order, each group in request order: an account is debited once per batch for
    its unguarded submits, and two processes' batches lock account rows in one order, so
    they cannot deadlock."""
    groups: dict[int, list[int]] = {}
    for index in sorted(range(len(accounts)), key=accounts.__getitem__):
        groups.setdefault(accounts[index], []).append(index)
    return list(groups.values())


def cost(drafts: Sequence[Draft]) -> tuple[int, int]:
    """(what a submit debits now, what the balance must cover): held messages are not
    charged yet, but the balance must cover them too."""
    return pumping.charged(drafts), sum(draft.price for draft in drafts)


def balances(after: int, costs: Sequence[int]) -> list[int]:
    """Each submit's balance as if debited one after the other, given the balance `after`
    one debit of all their `costs` together."""
    left = after + sum(costs)
    each = []
    for debited in costs:
        left -= debited
        each.append(left)
    return each


def day(now: datetime) -> int:
    """The per-day statistics' day of a time: whole days since the Unix epoch, in UTC."""
    return (now - _EPOCH).days


def day_groups(
    rows: Iterable[tuple[int, int, int, str, int]],
) -> list[tuple[int, int, int, str, int, int]]:
    """(account_id, day, status, operator, count, spend) of new messages given as
    (account_id, day, status, operator, price): what `submit` adds to the statistics."""
    groups: dict[tuple[int, int, int, str], list[int]] = {}
    for account_id, day, status, operator, price in rows:
        group = groups.setdefault((account_id, day, status, operator), [0, 0])
        group[0] += 1
        group[1] += price
    return [(*key, count, spend) for key, (count, spend) in sorted(groups.items())]
