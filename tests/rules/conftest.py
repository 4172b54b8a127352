"""Fixtures of the in-process rule tests (support.py says what they hold)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pilotgate import bootstrap
from pilotgate.config import Settings
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

from .support import Clock, Rig, open_account


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    store = SqliteStore(":memory:")
    await store.upgrade()
    await bootstrap.ensure_defaults(store, Settings())
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def rig(store: Store, clock: Clock) -> Rig:
    return Rig(store, clock, await open_account(store, clock))
