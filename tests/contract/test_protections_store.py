"""The storage side of account protections (contract §17): the defaults until the operator
sets them, then exactly what was set; message caps counted in the submit's transaction, so
two processes hold one cap, and a refused submit counts nothing. Run on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pilotgate.domain import limits
from pilotgate.domain.idempotency import WINDOW, Claim
from pilotgate.domain.limits import Caps, SubmitGuard
from pilotgate.domain.protections import DEFAULTS, Protections
from pilotgate.errors import CapReachedError, InsufficientFundsError, StorageError

from .test_store import NOW, draft, new_account

DAY_START = NOW.replace(hour=0, minute=0, second=0, microsecond=0)


async def test_protections_are_the_defaults_until_set(store):
    account = await new_account(store)
    assert await store.protections(account.id) == DEFAULTS
    wanted = Protections(
        countries=frozenset({"RU", "KZ"}), stop_words=("casino", "free spins"), cyrlat=True
    )
    await store.set_protections(account.id, wanted)
    assert await store.protections(account.id) == wanted
    back = Protections(countries=None, stop_words=(), cyrlat=False)
    await store.set_protections(account.id, back)
    assert await store.protections(account.id) == DEFAULTS
    # An empty set is a set (nowhere), not the default.
    await store.set_protections(account.id, Protections(countries=frozenset()))
    assert (await store.protections(account.id)).countries == frozenset()
    other = await new_account(store, "b@example.com", "k2")
    assert await store.protections(other.id) == DEFAULTS


async def test_protections_of_an_unknown_account_are_refused(store):
    with pytest.raises(StorageError):
        await store.set_protections(999_999, DEFAULTS)


async def test_two_processes_hold_one_cap(backend, store):
    account = await new_account(store, balance=100_000)
    other = await backend.open()  # a second process on the same database
    caps = SubmitGuard(caps=Caps(day=3, month=4))
    outcomes = await asyncio.gather(
        *(s.submit(account.id, [draft()], NOW, caps) for s in [store, other] * 3),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["CapReachedError"] * 3 + ["Submitted"] * 3
    assert len(await store.find_messages(account.id)) == 3
    assert await store.usage(account.id, limits.DAY, DAY_START) == 3
    # Tomorrow the day's count starts again; the month's goes on: one more fits.
    tomorrow = NOW + timedelta(days=1)
    await store.submit(account.id, [draft()], tomorrow, caps)
    with pytest.raises(CapReachedError):
        await store.submit(account.id, [draft()], tomorrow, caps)
    assert await store.usage(account.id, limits.MONTH, DAY_START.replace(day=1)) == 4
    assert await store.purge_usage(DAY_START + timedelta(days=1), 10) == 2  # day 1, month


async def test_a_refused_guarded_submit_leaves_no_count_and_no_claim(store):
    account = await new_account(store, balance=150)
    claim = Claim(key="k", fingerprint="f")
    guard = SubmitGuard(claim=claim, caps=Caps(day=1))
    with pytest.raises(CapReachedError):
        await store.submit(account.id, [draft(), draft("79001234568")], NOW, guard)
    assert await store.kept_answer(account.id, "k", NOW - WINDOW) is None
    with pytest.raises(InsufficientFundsError):
        await store.submit(account.id, [draft(price=200)], NOW, guard)
    assert await store.usage(account.id, limits.DAY, DAY_START) == 0
    assert await store.kept_answer(account.id, "k", NOW - WINDOW) is None
    await store.submit(account.id, [draft()], NOW, guard)
    assert await store.usage(account.id, limits.DAY, DAY_START) == 1
