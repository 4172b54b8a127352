"""The storage contract of stop lists, loop protection's look-back and referrals (0007).

Each test runs on SQLite and on PostgreSQL (see conftest.py).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pilotgate.connectors.base import MobileOriginated
from pilotgate.domain import referrals, stoplist
from pilotgate.errors import NotFoundError
from pilotgate.pipeline.connector_pool import ConnectorPool
from pilotgate.pipeline.links import LinkKeeper
from pilotgate.storage.base import Refusal
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, draft, new_account


async def balance(store: Store, account_id: int) -> int:
    """The account's balance, which must equal the sum of its ledger rows."""
    account = await store.account(account_id)
    assert account is not None
    assert await store.ledger_sum(account_id) == account.balance
    return account.balance


async def test_stop_lists_per_account_and_global(store: Store) -> None:
    one = await new_account(store, "one@example.com", "k1")
    two = await new_account(store, "two@example.com", "k2")
    assert await store.add_stops(one.id, ["79001", "79002", "79001"], "operator", NOW) == 2
    assert await store.add_stops(one.id, ["79002"], "again", NOW) == 0  # already there
    assert await store.add_stops(None, ["79009"], "global", NOW) == 1
    asked = ["79001", "79002", "79003", "79009"]
    assert await store.stopped(one.id, asked) == {"79001", "79002", "79009"}
    assert await store.stopped(two.id, asked) == {"79009"}  # others' lists do not apply
    assert await store.stopped(one.id, []) == set()
    entries = await store.stop_entries(one.id)
    assert [(e.phone, e.reason, e.account_id) for e in entries] == [
        ("79001", "operator", one.id),
        ("79002", "operator", one.id),
    ]
    assert entries[0].created == NOW
    assert [e.phone for e in await store.stop_entries(None)] == ["79009"]
    assert await store.remove_stop(one.id, "79001")
    assert not await store.remove_stop(one.id, "79001")
    assert not await store.remove_stop(two.id, "79009")  # the global entry is not two's
    assert await store.stopped(one.id, asked) == {"79002", "79009"}


async def test_concurrent_stop_checks_each_see_their_own_list(store: Store) -> None:
    """Checks made at the same moment share one statement (storage/sql/gathered.py): each
    send still sees the global list and its own account's, never another account's."""
    one = await new_account(store, "one@example.com", "k1")
    two = await new_account(store, "two@example.com", "k2")
    await store.add_stops(one.id, ["79001"], "one's", NOW)
    await store.add_stops(two.id, ["79002"], "two's", NOW)
    await store.add_stops(None, ["79009"], "global", NOW)
    asked = ["79001", "79002", "79009", "79005"]
    found = await asyncio.gather(
        store.stopped(one.id, asked),
        store.stopped(two.id, asked),
        store.stopped(one.id, ["79005"]),
        store.stopped(two.id, ["79001", "79009"]),
    )
    assert list(found) == [{"79001", "79009"}, {"79002", "79009"}, set(), {"79009"}]
    await store.remove_stop(None, "79009")
    again = await asyncio.gather(store.stopped(one.id, asked), store.stopped(two.id, asked))
    assert list(again) == [{"79001"}, {"79002"}]


async def test_stopped_answers_ten_thousand_phones_in_one_call(store: Store) -> None:
    account = await new_account(store)
    phones = [f"7900{n:07d}" for n in range(10_000)]
    await store.add_stops(account.id, phones[::1000], "some", NOW)
    assert await store.stopped(account.id, phones) == set(phones[::1000])


async def test_an_inbound_stop_word_joins_the_stop_list_with_the_sms(store: Store) -> None:
    account = await new_account(store)
    await store.add_inbound(account.id, "79005", "79990001122", "hello", NOW)
    assert await store.stopped(account.id, ["79005"]) == set()
    item = await store.add_inbound(account.id, "79005", "79990001122", "STOP", NOW, stop=True)
    assert item > 0
    assert await store.stopped(account.id, ["79005"]) == {"79005"}
    # A second stop from the same phone is stored too, and is not an error.
    await store.add_inbound(account.id, "79005", "79990001122", "стоп", NOW, stop=True)
    assert len(await store.inbound(account.id)) == 3


async def test_recent_texts_of_the_window_without_failed_ones(store: Store) -> None:
    account = await new_account(store, balance=10_000)
    other = await new_account(store, "o@example.com", "k2", balance=10_000)
    await store.submit(account.id, [draft("79001", text="old")], NOW - 60 * SECOND)
    await store.submit(
        account.id,
        [draft("79001", text="new"), draft("79002", text="new", status=-2, error=111, price=0)],
        NOW,
    )
    await store.submit(other.id, [draft("79003", text="new")], NOW)
    since = NOW - 30 * SECOND
    phones = ["79001", "79002", "79003"]
    assert await store.recent_texts(account.id, phones, since) == {("79001", "new")}
    assert await store.recent_texts(account.id, phones, NOW - 61 * SECOND) == {
        ("79001", "new"),
        ("79001", "old"),
    }
    assert await store.recent_texts(account.id, [], since) == set()


async def test_loop_window_is_an_account_setting(store: Store) -> None:
    account = await new_account(store)
    assert account.loop_window is None
    await store.set_loop_window(account.id, 300)
    found = await store.account(account.id)
    assert found is not None and found.loop_window == 300
    await store.set_loop_window(account.id, None)
    found = await store.account(account.id)
    assert found is not None and found.loop_window is None
    with pytest.raises(NotFoundError):
        await store.set_loop_window(999_999, 1)


async def test_referrer_is_recorded_once_never_self_never_a_cycle(store: Store) -> None:
    a = await new_account(store, "a@example.com", "ka")
    b = await new_account(store, "b@example.com", "kb")
    c = await new_account(store, "c@example.com", "kc")
    assert not await store.link_referrer(b.id, b.id, 10)
    assert not await store.link_referrer(b.id, 999_999, 10)  # no such account
    assert await store.link_referrer(b.id, a.id, 10)
    assert not await store.link_referrer(b.id, c.id, 10)  # never changed later
    assert await store.link_referrer(c.id, b.id, 5)
    assert not await store.link_referrer(a.id, c.id, 10)  # a → c → b → a would be a cycle
    found = await store.account(b.id)
    assert found is not None and found.referrer_id == a.id
    assert [(r.account_id, r.percent, r.commission) for r in await store.referrals(a.id)] == [
        (b.id, 10, 0)
    ]


async def test_charges_credit_the_referrer_through_the_ledger(store: Store) -> None:
    referrer = await new_account(store, "r@example.com", "kr")
    referred = await new_account(store, "d@example.com", "kd", balance=10_000)
    await store.link_referrer(referred.id, referrer.id, 10)
    await store.submit(referred.id, [draft("79001", price=395), draft("79002", price=435)], NOW)
    share = referrals.commission(830, 10)
    assert share == 83
    assert await balance(store, referrer.id) == share
    assert await balance(store, referred.id) == 10_000 - 830
    # Top-ups and the referrer's own spending pay nothing.
    await store.credit(referred.id, 500, "topup", "more", NOW)
    assert await balance(store, referrer.id) == share
    (item,) = await store.referrals(referrer.id)
    assert item.commission == share


async def test_a_refund_takes_its_share_back_but_never_below_zero(store: Store) -> None:
    referrer = await new_account(store, "r@example.com", "kr")
    referred = await new_account(store, "d@example.com", "kd", balance=10_000)
    await store.link_referrer(referred.id, referrer.id, 10)
    submitted = await store.submit(
        referred.id, [draft("79001", price=1000), draft("79002", price=1000)], NOW
    )
    assert await balance(store, referrer.id) == 200
    await store.credit(referrer.id, -150, "topup", "spent elsewhere", NOW)  # 50 left
    claimed = await store.claim("w1", NOW, NOW + LEASE, 10)
    assert {m.server_id for m in claimed} == set(submitted.server_ids)
    refusals = [
        Refusal(server_id=i, error=603, final=True, retry_at=NOW + timedelta(seconds=1))
        for i in submitted.server_ids
    ]
    assert await store.refuse("w1", refusals, NOW) == 2
    assert await balance(store, referred.id) == 10_000
    # The first refund takes back 50 of its 100 (all there is), the second nothing.
    assert await balance(store, referrer.id) == 0
    (item,) = await store.referrals(referrer.id)
    assert item.commission == 200 - 50


async def test_a_link_keeper_applies_stop_words_to_inbound_sms(store: Store) -> None:
    account = await new_account(store)
    await store.save_number("79990000001", account.id, NOW)
    pool = ConnectorPool(lambda info: None)
    keeper = LinkKeeper(
        store, pool, lambda: NOW, "p1", stop_words=stoplist.parse_words("STOP,СТОП")
    )
    said = {"79001": "Стоп", "79002": "stop please", "79003": " STOP "}
    await keeper.inbound(
        "smsc",
        [
            MobileOriginated(phone=phone, number="79990000001", text=text, received=NOW)
            for phone, text in said.items()
        ],
    )
    assert len(await store.inbound(account.id)) == 3
    assert await store.stopped(account.id, list(said)) == {"79001", "79003"}
