"""The storage side of account protections (contract §17.2, §17.3): the defaults until the
operator sets them, then exactly what was set. Run on every backend."""

from __future__ import annotations

import pytest

from pilotgate.domain.protections import DEFAULTS, Protections
from pilotgate.errors import StorageError

from .test_store import new_account


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
