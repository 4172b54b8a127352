"""PostgreSQL store: the driver's async connection pool (storage/postgres/driver.py), for
several gateway processes. Outbox work (`claim`, `apply_due_outcomes`) locks rows with
`FOR UPDATE SKIP LOCKED`, so any number of pipeline processes can share the table without
waiting on each other or taking the same message twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Self

from ..sql.core import SqlCore
from ..sql.messages import Pending
from .driver import Connection, PostgresDriver, driver_errors

__all__ = ["Connection", "PostgresCore"]


class PostgresCore(SqlCore):
    """The driver, and the submits waiting for the flusher's next group commit (the schema is
    the first one on the search_path)."""

    _sql: PostgresDriver

    def __init__(self, driver: PostgresDriver) -> None:
        self._sql = driver
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, prepare: bool = True
    ) -> Self:
        """Connect a pool to `dsn`; raises StorageError if the server cannot be reached.
        `prepare=False` behind PgBouncer in transaction pooling mode (PostgresDriver.open)."""
        driver = await PostgresDriver.open(
            dsn, min_size=min_size, max_size=max_size, prepare=prepare
        )
        return cls(driver)

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher  # answered submits are committed; finish the last batch
        await self._sql.close()

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, for the batched submit and its COPY."""
        with driver_errors():
            async with self._sql.pool.connection() as conn, conn.transaction():
                yield conn
