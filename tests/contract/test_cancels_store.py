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


async def test_a_packet_is_cancelled_whole_and_its_receipts_carry_its_id(store: Store) -> None:
    """A submit_multi's one id names its packet: cancelled together (what is still
    scheduled), refunded exactly, and each destination's receipt names the packet's id."""
    account = await new_account(store, balance=1_000)
    later = {"status": Status.SCHEDULED, "send_datetime": LATER, "smpp_receipt": 1}
    first, second, third = (
        await store.submit(
            account.id,
            [
                draft("79001111111", price=120, **later),
                draft("79002222222", price=150, **later),
                draft("79003333333", price=150, **later),
            ],
            NOW,
        )
    ).server_ids
    assert await store.cancel_scheduled(account.id, third, NOW)  # one cancelled alone first
    assert await balance(store, account.id) == 1_000 - 270
    assert await store.cancel_group(account.id, NOW, packet_id=first) == [first, second]
    assert await store.cancel_group(account.id, NOW, packet_id=first) == []  # nothing left
    assert await balance(store, account.id) == 1_000
    assert await store.ledger_sum(account.id) == 1_000
    owed = await store.claim_smpp_deliveries(account.id, "bind", NOW, LATER, 10)
    assert sorted((o.ref, o.source) for o in owed) == [
        (first, "79001111111"),
        (first, "79002222222"),
        (first, "79003333333"),
    ]


async def test_cancelling_by_sender_and_phone_takes_only_those(store: Store) -> None:
    account = await new_account(store, balance=2_000)
    other = await new_account(store, "other@example.com", "k2", balance=1_000)
    later = {"status": Status.SCHEDULED, "send_datetime": LATER}
    ids = (
        await store.submit(
            account.id,
            [
                draft("79001111111", **later),
                draft("79001111111", sender="SHOP", **later),
                draft("79002222222", **later),
                draft("79001111111"),  # queued, not scheduled
            ],
            NOW,
        )
    ).server_ids
    (again,) = (await store.submit(account.id, [draft("79001111111", **later)], NOW)).server_ids
    (theirs,) = (await store.submit(other.id, [draft("79001111111", **later)], NOW)).server_ids
    assert await balance(store, account.id) == 2_000 - 5 * 150
    # Two racing cancels of the same pair: one takes both messages, the other none.
    won = await run_all(
        store.cancel_group(account.id, NOW, phone="79001111111", senders=["INFORM"])
        for _ in range(2)
    )
    assert sorted(won) == [[], [ids[0], again]]
    assert await balance(store, account.id) == 2_000 - 3 * 150
    assert await store.ledger_sum(account.id) == 2_000 - 3 * 150
    assert await statuses(store, account.id, [*ids, again]) == {
        ids[0]: Status.ERROR,
        ids[1]: Status.SCHEDULED,
        ids[2]: Status.SCHEDULED,
        ids[3]: Status.ACCEPTED,
        again: Status.ERROR,
    }
    assert await statuses(store, other.id, [theirs]) == {theirs: Status.SCHEDULED}
    assert await store.cancel_group(account.id, NOW, phone="79001111111") == []  # no sender
