"""The PostgreSQL driver: psycopg 3 over an async connection pool.

Connections run in autocommit mode: a statement alone is its own transaction without
BEGIN/COMMIT round trips; `tx()` opens one explicitly for several statements.

Nothing here depends on a server session outliving a transaction, so the pool may be
PgBouncer in transaction pooling mode (docs/pooling.md): locks are `pg_advisory_xact_lock`,
settings `SET LOCAL`, COPY runs inside its transaction, and the one session setting, the
time zone, is one PgBouncer carries to whichever server connection serves us. The one thing
a pooler needs told is `prepare=False`: psycopg prepares a statement by name on the server
after a few executions, and PgBouncer before 1.21 (Debian 12 ships 1.18) may give the next
transaction another server connection, where that name does not exist.
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

from pilotgate.errors import ConflictError, LockBusyError, StorageError

from ..sql.driver import Args, Dialect, Row

Connection = AsyncConnection[TupleRow]


@contextlib.contextmanager
def driver_errors() -> Iterator[None]:
    """The one place psycopg's exceptions become pilotgate's."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(str(exc)) from exc
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
        # Either way nothing of the transaction was written, and trying again may succeed.
        raise LockBusyError(str(exc)) from exc
    except psycopg.errors.InternalError_ as exc:
        # "tuple concurrently updated": two sessions changed one catalog row at once (two
        # processes building one index, tests/contract/test_upgrade_locks.py); the loser's
        # statement failed whole, and trying again may succeed, as after a lock wait.
        if "tuple concurrently updated" in str(exc):
            raise LockBusyError(str(exc)) from exc
        raise StorageError(str(exc)) from exc
    except psycopg.Error as exc:  # includes the pool's PoolTimeout and PoolClosed
        raise StorageError(str(exc)) from exc


async def _configure(conn: Connection) -> None:
    # timestamptz values come back in the session time zone; pinning it to UTC makes every
    # datetime we return aware UTC whatever the server or role default is. A session setting,
    # but TimeZone is one of the parameters PgBouncer tracks per client and sets again on the
    # server connection it lends each transaction (tests/contract/test_pooler.py).
    await conn.execute("SET TIME ZONE 'UTC'")


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

    async def script(self, text: str) -> None:
        with driver_errors():
            # No parameters: psycopg sends it as one simple query, so it may hold many
            # statements.
            await self.connection.execute(text.encode("utf-8"))


def schema_lock(name: str) -> str:
    """A transaction's advisory lock on `name` (an SQL expression) within the schema the
    session works in: advisory locks are database-wide, and one schema's work must not wait
    for another's."""
    return f"SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || {name}, 0))"


class PostgresDriver:
    """The pool; each statement borrows a connection for itself, a transaction for its
    block."""

    bytewise = 'COLLATE "C"'
    dialect: Dialect = "postgres"
    #: The advisory lock that serialises `upgrade` across processes. Its key names the
    #: schema: installations sharing one database in schemas of their own (staging beside
    #: production, the tests' schemas) do not queue behind each other's migrations.
    upgrade_lock = schema_lock("'pilotgate.upgrade'")
    #: A migration first takes every table it touches, waiting at most 100 ms: while it
    #: waits, sends queue behind it; and well under `deadlock_timeout` (1 s), so when an
    #: older node's transaction and the migration wait on each other, the migration gives
    #: up and is retried, never the node's send (docs/upgrades.md).
    migration_lock_wait = "SET LOCAL lock_timeout = '100ms'"
    lock_tables = "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE"
    tables_named = (
        "SELECT relname FROM pg_class WHERE relname = ANY(%s::text[]) "
        "AND relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') "
        "ORDER BY relname"
    )
    find_text = "strpos"
    text_in = "= ANY(%s::text[])"

    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self.pool = pool

    @classmethod
    async def open(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, prepare: bool = True
    ) -> PostgresDriver:
        """Connect a pool to `dsn`; raises StorageError if the server cannot be reached.
        `prepare=False` never prepares statements by name (`postgres_prepare`: behind a
        transaction pooler that does not track them)."""
        # psycopg's default: a statement is prepared on its fifth execution on a connection.
        threshold = 5 if prepare else None
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            dsn,
            kwargs={"autocommit": True, "prepare_threshold": threshold},
            min_size=min_size,
            max_size=max_size,
            configure=_configure,
            open=False,
        )
        try:
            with driver_errors():
                # wait=True reports an unreachable server here, not at the first query.
                await pool.open(wait=True, timeout=30.0)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    def tx(self) -> contextlib.AbstractAsyncContextManager[PostgresStatements]:
        return self.queue_tx(planned=False)

    # The three below are the store's most frequent calls: one pooled connection each, without
    # the layers a transaction and `PostgresStatements` add around it (API-1 sends on
    # PostgreSQL measured 5-7 % slower through them than before the one store).
    async def rows(self, query: str, args: Args = ()) -> list[Row]:
        with driver_errors():
            async with self.pool.connection() as conn:
                cursor = await conn.execute(query, args)
                return list(await cursor.fetchall()) if cursor.description else []

    async def one(self, query: str, args: Args = ()) -> Row | None:
        with driver_errors():
            async with self.pool.connection() as conn:
                cursor = await conn.execute(query, args)
                return await cursor.fetchone() if cursor.description else None

    async def run(self, query: str, args: Args = ()) -> int:
        with driver_errors():
            async with self.pool.connection() as conn:
                return (await conn.execute(query, args)).rowcount

    def time(self, stored: Any) -> datetime:
        # The session time zone is pinned to UTC when a connection opens: already aware UTC.
        value: datetime = stored
        return value

    def texts(self, values: Sequence[str]) -> Any:
        return list(values)

    async def close(self) -> None:
        await self.pool.close()

    # what the outbox's statements spell in PostgreSQL (see Driver) ----------------------------
    true = "true"
    false = "false"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    for_update = " FOR UPDATE"
    _PLANNED = (
        "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
        "SET LOCAL enable_sort = off"
    )
    _LAX = "SET LOCAL synchronous_commit = off"

    @contextlib.asynccontextmanager
    async def queue_tx(
        self, *, durable: bool = True, planned: bool = True
    ) -> AsyncIterator[PostgresStatements]:
        """`planned`: a queue poll (claim, apply outcomes, expire) planned as an ordered walk
        of its partial index whatever the statistics say. A queue table changes faster than
        autovacuum analyses it: right after a burst the planner still believes it holds a
        few dozen rows, and measured 90 ms per claim (bitmap scan of 36,000 rows, then a sort)
        instead of 0.4 ms (index walk stopping at LIMIT). The settings last for this
        transaction only.

        `durable=False` commits without waiting for the WAL flush, for bookkeeping that is
        safe to redo: if the database server itself crashes, such a change may be lost and
        is simply done again (a lease taken again, an outcome applied again, a callback sent
        again, which at-least-once allows). Measured: a third of the time was fsync wait."""
        settings = "; ".join(
            s for s, on in ((self._PLANNED, planned), (self._LAX, not durable)) if on
        )
        with driver_errors():
            async with self.pool.connection() as conn, conn.transaction():
                if settings:  # no parameters: one simple query may hold several statements
                    await conn.execute(settings)
                yield PostgresStatements(conn)

    def indexed_by(self, index: str) -> str:
        return ""

    # what the hot path of hand-overs and receipts spells in PostgreSQL (see Driver) -----------
    # The bigint[] cast matters: psycopg sends small ints as smallint[], and a cross-type
    # `= ANY` is a linear scan of the array per row instead of a hash lookup.
    int_in = "= ANY(%s::bigint[])"
    lock_named = schema_lock("%s")

    def ints(self, values: Sequence[int]) -> Any:
        return list(values)

    def any_listed(self, csv: str) -> str:
        return f"string_to_array({csv}, ',') && %s::text[]"

    def table(self, alias: str, columns: Sequence[tuple[str, str]]) -> str:
        # One array per column, unnested side by side.
        arrays = ", ".join(f"%s::{t}[]" for _, t in columns)
        return f"unnest({arrays}) AS {alias}({', '.join(c for c, _ in columns)})"

    def table_args(self, rows: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
        return tuple(list(column) for column in zip(*rows, strict=True))

    def stamp(self, when: datetime) -> Any:
        return when
