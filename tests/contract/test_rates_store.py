"""The storage side of per-account rates (contract §17.5) on every backend: the settings as
set, API tokens taken in slices from one bucket that two processes share, and the send
bucket that leaves a shaped account out of claims until its next share while other
accounts' messages are claimed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pilotgate.domain.rates import DEFAULTS, Rates
from pilotgate.errors import StorageError, TooFastError
from pilotgate.gateway import Gateway

from .test_store import LEASE, NOW, draft, new_account

SECOND = timedelta(seconds=1)


async def test_rates_are_the_defaults_until_set(store):
    account = await new_account(store)
    assert await store.rates(account.id) == DEFAULTS
    await store.set_rates(account.id, Rates(api_rps=5, mps=0))
    assert await store.rates(account.id) == Rates(api_rps=5, mps=0)
    assert await store.own_send_rates() == {account.id: 0}
    await store.set_rates(account.id, Rates(api_rps=None, mps=None))
    assert await store.rates(account.id) == DEFAULTS
    assert await store.own_send_rates() == {}


async def test_rates_of_an_unknown_account_are_refused(store):
    with pytest.raises(StorageError):
        await store.set_rates(999_999, Rates(api_rps=1))


async def test_two_processes_share_one_api_bucket(backend, store):
    account = await new_account(store)
    other = await backend.open()  # a second process on the same database
    # 10 per second, a full bucket of 10: slices of 3 go until it is empty.
    taken = await asyncio.gather(
        *(s.take_api_tokens(account.id, 3, 10, NOW) for s in [store, other] * 3)
    )
    assert sum(granted for granted, _ in taken) == 10
    assert sorted(granted for granted, _ in taken) == [0, 0, 1, 3, 3, 3]
    # Half a second later, half a second's worth has grown back, for either process.
    assert await other.take_api_tokens(account.id, 10, 10, NOW + SECOND / 2) == (5, 0)
    assert await store.take_api_tokens(account.id, 1, 10, NOW + SECOND / 2) == (0, 0)


async def test_a_shaped_account_waits_out_of_claims_and_others_go_first(store):
    busy = await new_account(store, balance=100_000)
    quiet = await new_account(store, "b@example.com", "k2", balance=1000)
    burst = await store.submit(busy.id, [draft(f"7900100{n:04d}") for n in range(30)], NOW)
    single = await store.submit(quiet.id, [draft("79002223344")], NOW + SECOND / 10)
    at = NOW + SECOND
    claimed = await store.claim("w1", at, at + LEASE, 10, shaped=True)
    assert {m.account_id for m in claimed} == {busy.id}
    # Two a second: the full bucket gives two, the rest go back and the account waits.
    granted = await store.take_send_tokens({busy.id: (len(claimed), 2)}, at)
    assert granted == {busy.id: 2}
    await store.release_leases("w1", [m.server_id for m in claimed[2:]])
    again = await store.claim("w1", at, at + LEASE, 10, shaped=True)
    assert [m.server_id for m in again] == single.server_ids
    # Unshaped claims (no account has a rate) do not look at the buckets at all.
    assert len(await store.claim("w2", at, at + LEASE, 10)) == 10
    # A second later the account's next share is due: its messages are claimed again,
    # oldest first.
    later = await store.claim("w3", at + SECOND, at + SECOND + LEASE, 5, shaped=True)
    assert [m.server_id for m in later] == burst.server_ids[12:17]


async def _paced(gateway: Gateway, account) -> bool:
    try:
        await gateway.pace(account)
    except TooFastError as exc:
        assert (exc.code, exc.retry_after) == (223, 1)
        return False
    return True


async def test_concurrent_requests_in_two_processes_get_exactly_the_bucket(backend, store):
    account = await new_account(store)
    await store.set_rates(account.id, Rates(api_rps=100))
    # Two gateway processes on one database, their clocks standing still: a full bucket
    # (one second's worth) is all that goes, spent in slices of 10, none of it lost to
    # requests racing for a slice in one process.
    one = Gateway(store, lambda: NOW)
    two = Gateway(await backend.open(), lambda: NOW)
    outcomes = await asyncio.gather(*(_paced(g, account) for g in [one, two] * 100))
    assert outcomes.count(True) == 100
    # And the bucket is empty for either.
    granted, left = await store.take_api_tokens(account.id, 10, 100, NOW)
    assert (granted, left) == (0, 0)


async def test_two_workers_share_one_send_bucket(backend, store):
    account = await new_account(store)
    other = await backend.open()  # a second worker process on the same database
    # 4 a second: of two workers' claims of 3 each, 4 messages may go, the rest wait.
    granted = await asyncio.gather(
        *(s.take_send_tokens({account.id: (3, 4)}, NOW) for s in [store, other])
    )
    assert sorted(g[account.id] for g in granted) == [1, 3]
    # A quarter of a second later, one more has grown back, for either.
    assert await other.take_send_tokens({account.id: (1, 4)}, NOW + SECOND / 4) == {account.id: 1}
