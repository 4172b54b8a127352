"""Replacing a scheduled message (storage/sql/replaces.py), on both databases: the new text,
parts, price, schedule, validity and receipt wish stored, the price difference charged or
refunded in the same transaction; nothing for a message no longer scheduled, another
account's, a balance that cannot pay the difference, or the loser of a race."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pilotgate.api.dashboard.stats import UNCHARGED
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Status
from pilotgate.domain.replacements import Replacement, repriced
from pilotgate.errors import InsufficientFundsError
from pilotgate.storage.roles import Store

from .test_store import NOW, balance, draft, new_account, run_all

LATER = NOW + timedelta(hours=1)
LATEST = NOW + timedelta(hours=2)


def _change(text: str, parts: int, price: int) -> Replacement:
    return Replacement(
        text=text,
        parts=parts,
        price=price,
        send_datetime=LATEST,
        ttl=30,
        expires_at=LATEST + timedelta(minutes=30),
        smpp_receipt=1,
    )


async def _scheduled_at_120(store: Store) -> tuple[Account, int]:
    """An account with 1,000 on its balance and one scheduled one-part message at 120."""
    account = await new_account(store, balance=1_000)
    scheduled = draft(status=Status.SCHEDULED, send_datetime=LATER, price=120)
    (sid,) = (await store.submit(account.id, [scheduled], NOW)).server_ids
    return account, sid


async def test_a_longer_text_is_charged_a_shorter_refunded(store: Store) -> None:
    account, sid = await _scheduled_at_120(store)
    assert await balance(store, account.id) == 880
    three = _change("x" * 400, 3, repriced(120, 1, 3))
    assert await store.replace_scheduled(account.id, sid, 120, three, NOW)
    [message] = await store.messages_by_id(account.id, [sid])
    assert (message.text, message.parts, message.price) == ("x" * 400, 3, 360)
    assert (message.send_datetime, message.ttl, message.status) == (LATEST, 30, Status.SCHEDULED)
    assert await balance(store, account.id) == 640
    # The price the caller read no longer holds: refused, nothing moves.
    assert not await store.replace_scheduled(account.id, sid, 120, _change("y", 1, 120), NOW)
    assert await store.replace_scheduled(account.id, sid, 360, _change("y", 1, 120), NOW)
    assert await balance(store, account.id) == 880
    assert await store.ledger_sum(account.id) == 880
    # It is due at its new time, not the old one.
    assert await store.release_scheduled(LATER) == 0
    assert await store.release_scheduled(LATEST) == 1


async def _spent(store: Store, account_id: int) -> int:
    """What the dashboard's statistics say the account spent on NOW's day: every status's
    spend but the uncharged ones (api/dashboard/stats.py)."""
    stats = await store.daily_stats(account_id, NOW.date(), NOW.date())
    return sum(s.spend for s in stats if s.status not in UNCHARGED)


async def test_the_days_spend_follows_the_replaced_price(store: Store) -> None:
    account, sid = await _scheduled_at_120(store)
    assert await _spent(store, account.id) == 120
    three = _change("x" * 400, 3, repriced(120, 1, 3))
    assert await store.replace_scheduled(account.id, sid, 120, three, NOW)
    charged = 1_000 - await balance(store, account.id)
    assert charged == 360
    assert await _spent(store, account.id) == charged
    await store.fold_statistics(1000)  # folded or pending, the figure is the same
    assert await _spent(store, account.id) == charged
    assert await store.replace_scheduled(account.id, sid, 360, _change("y", 1, 120), NOW)
    assert await _spent(store, account.id) == 1_000 - await balance(store, account.id) == 120
    # A cancel refunds the price and takes it out of the spend, as the dashboard counts it.
    assert await store.cancel_scheduled(account.id, sid, NOW)
    assert await _spent(store, account.id) == 1_000 - await balance(store, account.id) == 0


async def test_what_cannot_pay_or_is_not_scheduled_is_left_alone(store: Store) -> None:
    account = await new_account(store, balance=300)
    other = await new_account(store, "other@example.com", "k2", balance=1_000)
    queued, scheduled = (
        await store.submit(
            account.id,
            [draft(price=150), draft(status=Status.SCHEDULED, send_datetime=LATER, price=150)],
            NOW,
        )
    ).server_ids
    assert await balance(store, account.id) == 0
    with pytest.raises(InsufficientFundsError):
        await store.replace_scheduled(account.id, scheduled, 150, _change("x" * 400, 3, 450), NOW)
    [message] = await store.messages_by_id(account.id, [scheduled])
    assert (message.text, message.price) == ("Привет, PilotGate", 150)
    assert not await store.replace_scheduled(account.id, queued, 150, _change("y", 1, 150), NOW)
    assert not await store.replace_scheduled(other.id, scheduled, 150, _change("y", 1, 150), NOW)
    # Two racing replaces to two parts: one wins, the other read a price that no longer
    # holds, and the difference is charged once.
    await store.credit(account.id, 300, "topup", "test money", NOW)
    won = await run_all(
        store.replace_scheduled(account.id, scheduled, 150, _change(text, 2, 300), NOW)
        for text in ("a" * 200, "b" * 200)
    )
    assert sorted(won) == [False, True]
    assert await balance(store, account.id) == 150
    assert await store.ledger_sum(account.id) == 150
