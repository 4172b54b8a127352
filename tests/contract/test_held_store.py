"""The storage side of the SMS-pumping defence (contract §17.6), on every backend: the
velocity counters grow in the submit's transaction (two processes share them), a held
message is stored uncharged, release charges and queues it, reject ends it -2 / 223 with
nothing charged; old counters are purged."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from pilotgate.domain import pumping
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Status
from pilotgate.domain.tally import Recall
from pilotgate.errors import InsufficientFundsError

from .test_store import NOW, draft, new_account

RULES = pumping.Rules(range_limit=3, premium_limit=0, sequence_run=0, new_country_limit=2)


def guard(account_id: int, source: str = "", rules: pumping.Rules = RULES) -> SubmitGuard:
    return SubmitGuard(velocity=pumping.Velocity(rules=rules, account_id=account_id, source=source))


async def statuses(store, account_id: int) -> list[int]:
    return [
        int(m.status)
        for m in sorted(await store.find_messages(account_id), key=lambda m: m.server_id)
    ]


async def test_a_range_past_its_limit_is_stored_held_and_uncharged(store):
    account = await new_account(store, balance=10_000)
    done = [
        await store.submit(account.id, [draft(f"7900123400{n}")], NOW, guard(account.id))
        for n in range(5)
    ]
    assert [bool(d.held) for d in done] == [False, False, False, True, True]
    assert done[-1].balance == 10_000 - 3 * 150
    assert await statuses(store, account.id) == [0, 0, 0, 4, 4]
    (batch,) = await store.held_batches()
    assert (batch.account_id, batch.messages, batch.price) == (account.id, 2, 300)
    assert (batch.lowest, batch.highest) == ("79001234003", "79001234004")
    assert (await store.queue_stats(NOW)).held == await store.held_count() == 2
    # Another window starts the count again.
    later = NOW + timedelta(seconds=RULES.window)
    again = await store.submit(account.id, [draft("79001234009")], later, guard(account.id))
    assert not again.held


async def test_release_charges_and_queues_reject_ends_them_uncharged(store):
    account = await new_account(store, balance=10_000)
    for n in range(6):
        await store.submit(account.id, [draft(f"7900123400{n}")], NOW, guard(account.id))
    held_ids = [m.server_id for m in await store.find_messages(account.id) if m.status == 4]
    one = await store.reject_held(account.id, held_ids[0], 223, NOW)
    assert (one.messages, one.amount) == (1, 0)
    settled = await store.release_held(account.id, None, NOW + timedelta(hours=2))
    assert (settled.messages, settled.amount) == (2, 300)
    assert (await store.account(account.id)).balance == 10_000 - 5 * 150
    found = {m.server_id: m for m in await store.find_messages(account.id)}
    assert (found[held_ids[0]].status, found[held_ids[0]].error, found[held_ids[0]].price) == (
        Status.ERROR, 223, 0,
    )  # fmt: skip
    assert {found[i].status for i in held_ids[1:]} == {Status.ACCEPTED}
    # Released late, they are not expired for the operator's delay: the worker claims them.
    claimed = await store.claim("w", NOW + timedelta(hours=2), NOW + timedelta(hours=3), 10)
    assert set(held_ids[1:]) <= {h.server_id for h in claimed}
    assert await store.held_batches() == []


async def test_a_release_the_balance_cannot_pay_changes_nothing(store):
    account = await new_account(store, balance=750)
    for n in range(5):
        await store.submit(account.id, [draft(f"7900123400{n}")], NOW, guard(account.id))
    # The balance had to cover the held ones too at the send; it is spent since.
    await store.credit(account.id, -300, "adjust", "spent", NOW)
    with pytest.raises(InsufficientFundsError):
        await store.release_held(account.id, None, NOW)
    assert await statuses(store, account.id) == [0, 0, 0, 4, 4]
    assert (await store.account(account.id)).balance == 0


async def test_the_balance_must_cover_held_messages_too(store):
    account = await new_account(store, balance=500)
    for n in range(3):
        await store.submit(account.id, [draft(f"7900123400{n}")], NOW, guard(account.id))
    # The fourth would be held (uncharged), but 50 kopecks cannot pay for it: refused.
    with pytest.raises(InsufficientFundsError):
        await store.submit(account.id, [draft("79001234003")], NOW, guard(account.id))
    assert await statuses(store, account.id) == [0, 0, 0]


async def test_two_processes_and_two_accounts_share_the_address_counters(backend, store):
    first = await new_account(store, balance=100_000)
    second = await new_account(store, "b@example.com", "k2", balance=100_000)
    other = await backend.open()  # a second process on the same database
    submits = [
        s.submit(a.id, [draft(f"7900123{n:04d}")], NOW, guard(a.id, "203.0.113.5"))
        for n, (s, a) in enumerate([(store, first), (other, second)] * 4)
    ]
    done = await asyncio.gather(*submits)
    # 8 messages from one address to one range: whoever counted past 3 is held.
    assert sum(bool(d.held) for d in done) == 5


async def test_countries_new_to_the_account_are_held_past_limit_and_share(store):
    account = await new_account(store, balance=100_000)
    abroad = dataclasses.replace(draft("37491234567"), country="AM")
    rules = dataclasses.replace(RULES, range_limit=0)
    done = [
        await store.submit(account.id, [dataclasses.replace(abroad, phone=f"3749123456{n}")],
                           NOW, guard(account.id, rules=rules))
        for n in range(4)
    ]  # fmt: skip
    assert [bool(d.held) for d in done] == [False, False, True, True]
    # After the learning period the country is the account's own: nothing new is held.
    later = NOW + timedelta(seconds=rules.learning + rules.window)
    known = await store.submit(account.id, [abroad], later, guard(account.id, rules=rules))
    assert not known.held


async def test_old_counters_are_purged(store):
    account = await new_account(store, balance=1_000)
    await store.submit(account.id, [draft()], NOW, guard(account.id, "192.0.2.1"))
    assert await store.purge_velocity(NOW - timedelta(days=1), 100) == 0
    # The account's total, its range, the address's range; the number for each scope.
    assert await store.purge_velocity(NOW + timedelta(days=1), 100) == 5


def remembering(account_id: int, recall: Recall, source: str = "", rules=RULES) -> SubmitGuard:
    """A guard of a process that remembers what it saw of the counters (domain/tally.py)."""
    velocity = pumping.Velocity(rules=rules, account_id=account_id, source=source, recall=recall)
    return SubmitGuard(velocity=velocity)


async def test_a_number_sent_again_counts_once_in_a_remembering_process(store):
    account = await new_account(store, balance=100_000)
    recall = Recall()
    phones = ["79001234000"] * 5 + ["79001234001", "79001234002", "79001234003"]
    done = [
        await store.submit(account.id, [draft(p)], NOW, remembering(account.id, recall))
        for p in phones
    ]
    assert [bool(d.held) for d in done] == [False] * 7 + [True]


async def test_remembering_processes_still_share_the_address_counters(backend, store):
    first = await new_account(store, balance=100_000)
    second = await new_account(store, "b@example.com", "k2", balance=100_000)
    other = await backend.open()
    stores = [(store, first, Recall()), (other, second, Recall())]
    for s, a, recall in stores:  # each process has seen its own number stored already
        for _ in range(2):
            await s.submit(a.id, [draft(f"7900123999{a.id}")], NOW, remembering(a.id, recall))
    submits = [
        s.submit(a.id, [draft(f"7900123{n:04d}")], NOW, remembering(a.id, r, "203.0.113.5"))
        for n, (s, a, r) in enumerate(stores * 4)
    ]
    done = await asyncio.gather(*submits)
    assert sum(bool(d.held) for d in done) == 5


async def test_a_process_owes_the_account_total_for_a_second_at_most(backend, store):
    account = await new_account(store, balance=100_000)
    other = await backend.open()
    rules = dataclasses.replace(RULES, range_limit=0)
    busy = Recall()
    for n in range(10):  # home traffic only: its total waits in the process
        await store.submit(
            account.id, [draft(f"790012{n:05d}")], NOW, remembering(account.id, busy, rules=rules)
        )
    # The next send a second later writes it: the other process sees 11 home messages,
    # and 3 to a new country are under half of the account's traffic.
    later = NOW + timedelta(seconds=1)
    await store.submit(account.id, [draft()], later, remembering(account.id, busy, rules=rules))
    abroad = dataclasses.replace(draft("37491234567"), country="AM")
    done = await other.submit(
        account.id,
        [dataclasses.replace(abroad, phone=f"3749123456{n}") for n in range(3)],
        later,
        remembering(account.id, Recall(), rules=rules),
    )
    assert not done.held
