"""Fixtures for the storage contract: the same tests run against every `Store` backend.

PostgreSQL cases get a schema of their own (tests/postgres.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore
from tests.postgres import fresh_schema


@dataclass
class Backend:
    """Where one test's database lives; `open` gives a store on it, not yet upgraded."""

    name: str  # "sqlite" or "postgres", also the migrations' dialect
    target: str  # the SQLite file, or a DSN whose search_path is the test's schema
    opened: list[Store] = field(default_factory=list)
    #: False through a transaction pooler (tests/contract/test_pooler.py).
    prepare: bool = True

    async def open(self) -> Store:
        store: Store
        if self.name == "sqlite":
            store = SqliteStore(self.target)
        else:
            store = await PostgresStore.open(self.target, max_size=4, prepare=self.prepare)
        self.opened.append(store)
        return store


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """For the PostgreSQL-only tests that put several stores on one schema."""
    with fresh_schema() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            target = str(tmp_path / "t.db")
        else:
            target = stack.enter_context(fresh_schema())
        backend = Backend(name=request.param, target=target)
        try:
            yield backend
        finally:
            # Close the stores (and their pools) before the schema is dropped.
            for opened in backend.opened:
                await opened.close()


@pytest.fixture
async def store(backend: Backend) -> Store:
    """An upgraded store on a fresh database of each backend."""
    store = await backend.open()
    await store.upgrade()
    return store
