"""SMPP limits per account on every backend (migration 0019_smpp_limits): the account's own
limits, set by the operator's use case and audited; bind rows counted so that racing binds
from two stores (two processes' connections) never pass the ceiling together; rows of a
process that stopped renewing them stop counting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pilotgate.domain import audit
from pilotgate.errors import InputError
from pilotgate.operations import smpp

from .test_smpp_credentials import _account, gateway  # noqa: F401 - the fixture
from .test_store import NOW, run_all

LEASE = timedelta(seconds=15)


async def test_an_accounts_own_limits_are_set_kept_and_reset(gateway):  # noqa: F811
    account_id = await _account(gateway)
    with pytest.raises(InputError, match="no SMPP credentials"):
        await smpp.set_limits(gateway, audit.CLI, account_id, "2", None)
    await smpp.set_credentials(gateway, audit.CLI, account_id, "shop", "secret12")
    held = await smpp.set_limits(gateway, audit.CLI, account_id, "2", "50")
    assert (held.max_binds, held.mps) == (2, 50)
    held = await smpp.set_limits(gateway, audit.CLI, account_id, None, "")  # binds kept
    assert (held.max_binds, held.mps) == (2, None)
    assert await gateway.smpp_limits(account_id) == (2, None)
    for bad in ("-1", "x", "100001"):
        with pytest.raises(InputError, match="whole number"):
            await smpp.set_limits(gateway, audit.CLI, account_id, bad, None)
    # Changing the password keeps the limits.
    await smpp.set_credentials(gateway, audit.CLI, account_id, None, "other123")
    assert await gateway.smpp_limits(account_id) == (2, None)


async def test_racing_binds_from_two_processes_never_pass_the_ceiling(backend, gateway):  # noqa: F811
    account_id = await _account(gateway)
    store, other = gateway.store, await backend.open()
    holds = [
        (store if n % 2 else other).hold_smpp_bind(account_id, f"p{n % 2}", 3, NOW, NOW + LEASE)
        for n in range(8)
    ]
    held = [bind for bind in await run_all(holds) if bind is not None]
    assert len(held) == 3
    assert await store.smpp_bind_owners(account_id, NOW) in (1, 2)
    # One released: one more fits, and no more.
    await store.release_smpp_bind(held[0])
    assert await other.hold_smpp_bind(account_id, "p9", 3, NOW, NOW + LEASE) is not None
    assert await other.hold_smpp_bind(account_id, "p9", 3, NOW, NOW + LEASE) is None


async def test_rows_not_renewed_stop_counting(gateway):  # noqa: F811
    account_id = await _account(gateway)
    store = gateway.store
    assert await store.hold_smpp_bind(account_id, "dead", 2, NOW, NOW + LEASE) is not None
    assert await store.hold_smpp_bind(account_id, "alive", 2, NOW, NOW + LEASE) is not None
    later = NOW + LEASE + timedelta(seconds=1)
    await store.renew_smpp_binds("alive", later + LEASE)
    assert await store.smpp_bind_owners(account_id, later) == 1
    # The dead process's bind no longer counts: a new bind fits beside the living one.
    assert await store.hold_smpp_bind(account_id, "new", 2, later, later + LEASE) is not None
    assert await store.hold_smpp_bind(account_id, "new", 2, later, later + LEASE) is None
