"""Cancelling a scheduled message (storage/sql/cancels.py), on both databases: 3 → -2/604,
the price back on the balance and in the ledger, its callback written; nothing for a message
no longer scheduled, another account's, or a second cancel."""

from __future__ import annotations

from datetime import timedelta

from pilotgate.domain.messages import Status
from pilotgate.storage.roles import Store

from .test_store import NOW, balance, draft, new_account, run_all, statuses

LATER = NOW + timedelta(hours=1)


async def test_a_scheduled_message_is_cancelled_and_refunded_once(store: Store) -> None:
    account = await new_account(store, balance=1_000)
    scheduled = draft(status=Status.SCHEDULED, send_datetime=LATER, price=395, callback="http://cb")
    (sid,) = (await store.submit(account.id, [scheduled], NOW)).server_ids
    assert await balance(store, account.id) == 605
    # Two cancels racing: one wins, the price comes back once.
    won = await run_all(store.cancel_scheduled(account.id, sid, NOW) for _ in range(2))
    assert sorted(won) == [False, True]
    [message] = await store.messages_by_id(account.id, [sid])
    assert (message.status, message.error, message.price) == (Status.ERROR, 604, 395)
    assert await balance(store, account.id) == 1_000
    assert await store.ledger_sum(account.id) == 1_000
    jobs = await store.claim_callbacks("w", NOW, NOW + timedelta(minutes=1), 10)
    assert [(j.ref, j.status, j.error) for j in jobs] == [(sid, -2, 604)]


async def test_only_the_owners_still_scheduled_messages_can_be_cancelled(store: Store) -> None:
    account = await new_account(store, balance=1_000)
    other = await new_account(store, "other@example.com", "k2", balance=1_000)
    queued, scheduled = (
        await store.submit(
            account.id,
            [draft(), draft(status=Status.SCHEDULED, send_datetime=LATER)],
            NOW,
        )
    ).server_ids
    assert not await store.cancel_scheduled(account.id, queued, NOW)  # already queued
    assert not await store.cancel_scheduled(other.id, scheduled, NOW)  # not theirs
    assert not await store.cancel_scheduled(account.id, 999_999, NOW)  # no such message
    assert await store.release_scheduled(LATER) == 1
    assert not await store.cancel_scheduled(account.id, scheduled, LATER)  # released
    assert await statuses(store, account.id, [queued, scheduled]) == {
        queued: Status.ACCEPTED,
        scheduled: Status.ACCEPTED,
    }
    assert await balance(store, account.id) == 700
    assert await balance(store, other.id) == 1_000
