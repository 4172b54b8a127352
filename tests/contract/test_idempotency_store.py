"""The storage side of idempotent retries (contract §17.1): a keyed submit claims its key in
its own transaction, so of two racing repeats — two stores on one database, as two processes
have — exactly one stores and charges; a refused submit leaves its key free; answers are kept
once and forgotten after the window. Run on every backend."""

from __future__ import annotations

import asyncio

import pytest

from pilotgate.domain.idempotency import WINDOW, Claim
from pilotgate.domain.limits import SubmitGuard
from pilotgate.errors import InsufficientFundsError, KeyClaimedError

from .test_store import NOW, SECOND, draft, new_account

CLAIM = Claim(key="k" * 64, fingerprint="request-1")
GUARD = SubmitGuard(claim=CLAIM)


async def test_two_processes_racing_with_one_key_store_one_message(backend, store):
    account = await new_account(store, balance=10_000)
    other = await backend.open()  # a second process on the same database
    outcomes = await asyncio.gather(
        store.submit(account.id, [draft()], NOW, GUARD),
        other.submit(account.id, [draft()], NOW, GUARD),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["KeyClaimedError", "Submitted"]
    assert len(await store.find_messages(account.id)) == 1
    assert (await store.account(account.id)).balance == 10_000 - 150
    # The same key in one batch of one process: the second is refused too.
    again = Claim(key="x" * 64, fingerprint="request-2")
    outcomes = await asyncio.gather(
        store.submit(account.id, [draft()], NOW, SubmitGuard(again)),
        store.submit(account.id, [draft()], NOW, SubmitGuard(again)),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["KeyClaimedError", "Submitted"]
    assert len(await store.find_messages(account.id)) == 2


async def test_the_answer_is_kept_once_and_read_back(store):
    account = await new_account(store, balance=10_000)
    assert await store.kept_answer(account.id, CLAIM.key, NOW - WINDOW) is None
    await store.submit(account.id, [draft()], NOW, GUARD)
    kept = await store.kept_answer(account.id, CLAIM.key, NOW - WINDOW)
    assert (kept.fingerprint, kept.answer) == ("request-1", None)
    answer = b'\x00\xff{"send":[]}'  # any bytes: a utf-16 answer has NULs
    assert await store.keep_answer(account.id, CLAIM.key, "request-1", answer, "text/plain")
    assert not await store.keep_answer(account.id, CLAIM.key, "request-1", b"2nd", "text/plain")
    assert not await store.keep_answer(account.id, CLAIM.key, "other", b"x", "text/plain")
    kept = await store.kept_answer(account.id, CLAIM.key, NOW - WINDOW)
    assert (kept.answer, kept.content_type) == (answer, "text/plain")
    # Another account's key of the same name is its own.
    stranger = await new_account(store, "b@example.com", "k2", balance=10_000)
    assert await store.kept_answer(stranger.id, CLAIM.key, NOW - WINDOW) is None
    await store.submit(stranger.id, [draft()], NOW, GUARD)


async def test_a_refused_submit_leaves_its_key_free(store):
    account = await new_account(store, balance=100)
    with pytest.raises(InsufficientFundsError):
        await store.submit(account.id, [draft()], NOW, GUARD)
    assert await store.kept_answer(account.id, CLAIM.key, NOW - WINDOW) is None
    await store.credit(account.id, 1000, "topup", "", NOW)
    await store.submit(account.id, [draft()], NOW, GUARD)


async def test_an_expired_key_is_claimed_anew_and_purged(store):
    account = await new_account(store, balance=10_000)
    await store.submit(account.id, [draft()], NOW, GUARD)
    with pytest.raises(KeyClaimedError):
        await store.submit(account.id, [draft()], NOW + WINDOW - SECOND, GUARD)
    later = NOW + WINDOW + SECOND
    await store.submit(
        account.id, [draft()], later, SubmitGuard(Claim(key=CLAIM.key, fingerprint="new"))
    )
    assert (await store.kept_answer(account.id, CLAIM.key, later - WINDOW)).fingerprint == "new"
    for n in range(3):
        await store.submit(
            account.id, [draft()], NOW, SubmitGuard(Claim(key=f"old{n}", fingerprint="f"))
        )
    assert await store.purge_idempotency_keys(later - WINDOW, 2) == 2
    assert await store.purge_idempotency_keys(later - WINDOW, 2) == 1
    assert await store.purge_idempotency_keys(later - WINDOW, 2) == 0
    assert await store.kept_answer(account.id, CLAIM.key, later - WINDOW) is not None
