"""The PostgreSQL driver: psycopg 3 over an async connection pool.

Connections run in autocommit mode: a statement alone is its own transaction without
BEGIN/COMMIT round trips; `tx()` opens one explicitly for several statements.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from pilotgate.errors import ConflictError, StorageError

from ..sql.driver import Args, Dialect, Row, Statements

Connection = AsyncConnection[TupleRow]


@contextlib.contextmanager
def driver_errors() -> Iterator[None]:
    """The one place psycopg's exceptions become pilotgate's."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(str(exc)) from exc
    except psycopg.Error as exc:  # includes the pool's PoolTimeout and PoolClosed
        raise StorageError(str(exc)) from exc


class PostgresStatements:
    """Statements on one connection inside an open transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def rows(self, query: str, args: Args = ()) -> list[Row]:
        with driver_errors():
            cursor = await self.connection.execute(query, args)
            if cursor.description is None:
                return []
            return list(await cursor.fetchall())

    async def one(self, query: str, args: Args = ()) -> Row | None:
        with driver_errors():
            cursor = await self.connection.execute(query, args)
            return await cursor.fetchone() if cursor.description else None

    async def run(self, query: str, args: Args = ()) -> int:
        with driver_errors():
            return (await self.connection.execute(query, args)).rowcount

    async def many(self, query: str, batch: Iterable[Args]) -> int:
        with driver_errors():
            async with self.connection.cursor() as cursor:
                await cursor.executemany(query, batch)
                return max(cursor.rowcount, 0)


class PostgresDriver:
    """The pool; each statement borrows a connection for itself, a transaction for its
    block."""

    bytewise = 'COLLATE "C"'
    dialect: Dialect = "postgres"
    find_text = "strpos"
    text_in = "= ANY(%s::text[])"

    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        with driver_errors():
            async with self.pool.connection() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[Statements]:
        with driver_errors():
            async with self.pool.connection() as conn, conn.transaction():
                yield PostgresStatements(conn)

    async def rows(self, query: str, args: Args = ()) -> list[Row]:
        async with self.connection() as conn:
            return await PostgresStatements(conn).rows(query, args)

    async def one(self, query: str, args: Args = ()) -> Row | None:
        async with self.connection() as conn:
            return await PostgresStatements(conn).one(query, args)

    async def run(self, query: str, args: Args = ()) -> int:
        async with self.connection() as conn:
            return await PostgresStatements(conn).run(query, args)

    async def many(self, query: str, batch: Iterable[Args]) -> int:
        async with self.connection() as conn:
            return await PostgresStatements(conn).many(query, batch)

    def time(self, stored: Any) -> datetime:
        # The session time zone is pinned to UTC when a connection opens: already aware UTC.
        value: datetime = stored
        return value

    def texts(self, values: Sequence[str]) -> Any:
        return list(values)

    async def close(self) -> None:
        await self.pool.close()
