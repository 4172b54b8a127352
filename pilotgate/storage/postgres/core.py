"""PostgreSQL store: psycopg 3 with an async connection pool, for several gateway processes.

Connections run in autocommit mode: a method that is one statement is one transaction without
BEGIN/COMMIT round trips, and a method that writes several statements opens
`conn.transaction()` explicitly. Outbox work (`claim`, `apply_due_outcomes`) locks rows with
`FOR UPDATE SKIP LOCKED`, so any number of pipeline processes can share the table without
waiting on each other or taking the same message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, LiteralString, Self

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from pilotgate.domain import checks, hybrid
from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.messages import Draft, Message, Status
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, StorageError

from ..base import (
    CallbackJob,
    InboundSms,
    Sender,
    migration_scripts,
)
from ..sql.core import SqlCore
from ..sql.messages import Pending
from .driver import PostgresDriver

Connection = AsyncConnection[TupleRow]
Query = LiteralString | sql.SQL | sql.Composed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Key of the advisory lock that serialises `upgrade` across processes ("pilotgat" in ASCII).
_MIGRATION_LOCK = 0x70696C6F74676174

#: Above this many rows `submit` streams messages with COPY; below, executemany (pipelined)
#: is as fast and skips the COPY set-up.
_COPY_THRESHOLD = 50

#: What `submit` writes; reads add the columns the pipeline fills in later.
_INSERT_COLUMNS = sql.SQL(
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route, ping_route"
)
_MESSAGE_COLUMNS = sql.SQL("{}, details, client_id").format(_INSERT_COLUMNS)
_ACCOUNT_COLUMNS = sql.SQL(
    "id, email, password_hash, name, phone, tariff_id, default_sender, any_sender, allow_ip, "
    "state, referrer_id, balance, created, status_url, status_method, inbound_url, "
    "callback_secret, loop_window"
)
_SENDER_COLUMNS = sql.SQL("id, account_id, name, state, description, callback, created")
_INBOUND_COLUMNS = sql.SQL("id, account_id, phone, num, text, created, server_id")
_CALLBACK_COLUMNS = sql.SQL(
    "id, kind, account_id, ref, url, method, status, error, attempts, created"
)

_SELECT_ACCOUNT = sql.SQL("SELECT {} FROM accounts ").format(_ACCOUNT_COLUMNS)
_SELECT_MESSAGE = sql.SQL("SELECT {} FROM messages ").format(_MESSAGE_COLUMNS)

_INSERT_MESSAGE = sql.SQL(
    "INSERT INTO messages ({}, due_at, expires_at, fallback, client_id) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s, %s, %s, %s)"
).format(_INSERT_COLUMNS)
_COPY_MESSAGES = sql.SQL(
    "COPY messages ({}, due_at, expires_at, fallback, client_id) FROM STDIN (FORMAT BINARY)"
).format(_INSERT_COLUMNS)
#: Binary COPY (a fraction of text COPY's client CPU) needs every column's exact type: these
#: follow _INSERT_COLUMNS + due_at, expires_at, fallback, client_id as the migrations declare
#: them. A mismatch fails loudly ("incorrect binary data format"), never silently.
_COPY_TYPES = [
    "int8", "int8", "int8", "text", "text", "text", "text", "int4", "text", "int8",
    "int2", "int4", "timestamptz", "int4", "text", "text", "timestamptz", "timestamptz",
    "text", "text", "bool", "text", "text", "timestamptz", "timestamptz", "text", "text",
]  # fmt: skip

#: Ids are bigint; a larger number cannot name a message, so it is simply not found.
_MAX_ID = 2**63 - 1

_CLAIM = sql.SQL(
    "UPDATE messages SET lease_owner = %s, lease_until = %s, handing = true WHERE id IN ("
    "SELECT id FROM messages WHERE status = 0 AND NOT handing AND due_at <= %s "
    "AND (lease_until IS NULL OR lease_until < %s) ORDER BY due_at, id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING {}"
).format(_MESSAGE_COLUMNS)
# The same, only for messages whose route names one of the given connectors (messages
# stored before routing have route '' and go to the emulator).
_CLAIM_ROUTED = sql.SQL(
    "UPDATE messages SET lease_owner = %s, lease_until = %s, handing = true WHERE id IN ("
    "SELECT id FROM messages WHERE status = 0 AND NOT handing AND due_at <= %s "
    "AND (lease_until IS NULL OR lease_until < %s) AND string_to_array(CASE WHEN route = '' "
    "THEN 'emulator' ELSE route END, ',') && %s::text[] ORDER BY due_at, id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING {}"
).format(_MESSAGE_COLUMNS)


_QUEUE_PLAN: LiteralString = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"
)
_QUEUE_PLAN_ASYNC: LiteralString = _QUEUE_PLAN + "; SET LOCAL synchronous_commit = off"


def _account(row: TupleRow) -> Account:
    return Account(
        id=row[0],
        email=row[1],
        password_hash=row[2],
        name=row[3],
        phone=row[4],
        tariff_id=row[5],
        default_sender=row[6],
        any_sender=row[7],
        allow_ip=row[8],
        state=AccountState(row[9]),
        referrer_id=row[10],
        balance=row[11],
        created=row[12],
        status_url=row[13],
        status_method=row[14],
        inbound_url=row[15],
        callback_secret=row[16],
        loop_window=row[17],
    )


def _message(row: TupleRow) -> Message:
    return Message(
        server_id=row[0],
        packet_id=row[1],
        account_id=row[2],
        phone=row[3],
        sender=row[4],
        sender_orig=row[5],
        text=row[6],
        parts=row[7],
        channel=row[8],
        price=row[9],
        status=Status(row[10]),
        error=row[11],
        send_datetime=row[12],
        ttl=row[13],
        callback=row[14],
        callback_method=row[15],
        created=row[16],
        modified=row[17],
        country=row[18],
        operator=row[19],
        test=row[20],
        route=row[21],
        ping_route=row[22],
        details=checks.decode(row[23]),
        client_id=row[24],
    )


def _sender(row: TupleRow) -> Sender:
    return Sender(
        id=row[0],
        account_id=row[1],
        name=row[2],
        state=SenderState(row[3]),
        description=row[4],
        callback=row[5],
        created=row[6],
    )


def _callback(row: TupleRow) -> CallbackJob:
    return CallbackJob(
        id=row[0],
        kind=row[1],
        account_id=row[2],
        ref=row[3],
        url=row[4],
        method=row[5],
        status=row[6],
        error=row[7],
        attempts=row[8],
        created=row[9],
    )


def _inbound(row: TupleRow) -> InboundSms:
    return InboundSms(
        id=row[0],
        account_id=row[1],
        phone=row[2],
        num=row[3],
        text=row[4],
        created=row[5],
        server_id=row[6],
    )


def _message_row(
    server_id: int, packet_id: int, account_id: int, d: Draft, now: datetime
) -> tuple[Any, ...]:
    # Enums go in as plain ints/bools: psycopg would dump an Enum by its name.
    return (
        server_id,
        packet_id,
        account_id,
        d.phone,
        d.sender,
        d.sender_orig,
        d.text,
        d.parts,
        d.channel,
        d.price,
        int(d.status),
        d.error,
        d.send_datetime,
        d.ttl,
        d.callback,
        d.callback_method,
        now,
        now,
        d.country,
        d.operator,
        bool(d.test),
        d.route,
        d.ping_route,
        d.send_datetime or now,
        d.expires_at,
        hybrid.encode(d.fallback),
        d.client_id,
    )


@contextlib.contextmanager
def _driver_errors() -> Iterator[None]:
    """The one place psycopg's exceptions become pilotgate's."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(str(exc)) from exc
    except psycopg.Error as exc:  # includes the pool's PoolTimeout and PoolClosed
        raise StorageError(str(exc)) from exc


async def _configure(conn: Connection) -> None:
    # timestamptz values come back in the session time zone; pinning it to UTC makes every
    # datetime we return aware UTC whatever the server or role default is.
    await conn.execute("SET TIME ZONE 'UTC'")


class PostgresCore(SqlCore):
    """The connection pool and transactions every part of the PostgreSQL store shares (the
    schema is the first one on the search_path)."""

    _sql: PostgresDriver

    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self._pool = pool
        self._sql = PostgresDriver(pool)
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> Self:
        """Connect a pool to `dsn`; raises StorageError if the server cannot be reached."""
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            dsn,
            kwargs={"autocommit": True},
            min_size=min_size,
            max_size=max_size,
            configure=_configure,
            open=False,
        )
        try:
            with _driver_errors():
                # wait=True reports an unreachable server here, not at the first query.
                await pool.open(wait=True, timeout=30.0)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher  # answered submits are committed; finish the last batch
        await self._pool.close()

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Connection]:
        """A pooled connection for one statement (autocommit: the statement is the
        transaction)."""
        with _driver_errors():
            async with self._pool.connection() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, rolled back on any exception."""
        with _driver_errors():
            async with self._pool.connection() as conn, conn.transaction():
                yield conn

    async def _rows(self, query: Query, args: Sequence[Any] = ()) -> list[TupleRow]:
        async with self._conn() as conn:
            cursor = await conn.execute(query, args)
            return await cursor.fetchall()

    async def _count(self, query: Query, args: Sequence[Any] = ()) -> int:
        async with self._conn() as conn:
            return (await conn.execute(query, args)).rowcount

    async def _queue_rows(
        self, query: Query, args: Sequence[Any] = (), *, durable: bool = True
    ) -> list[TupleRow]:
        """A queue poll (claim, apply outcomes, expire), planned as an ordered walk of its
        partial index whatever the statistics say. A queue table changes faster than
        autovacuum analyses it: right after a burst the planner still believes it holds a
        few dozen rows, and measured 90 ms per claim (bitmap scan of 36,000 rows, then a sort)
        instead of 0.4 ms (index walk stopping at LIMIT). The settings last for this
        transaction only.

        `durable=False` commits without waiting for the WAL flush, for bookkeeping that is
        safe to redo: if the database server itself crashes, such a change may be lost and
        is simply done again (a lease taken again, an outcome applied again, a callback sent
        again, which at-least-once allows). Measured: a third of the time was fsync wait."""
        async with self._tx() as conn:
            await conn.execute(_QUEUE_PLAN if durable else _QUEUE_PLAN_ASYNC)
            cursor = await conn.execute(query, args)
            return await cursor.fetchall() if cursor.description else []

    async def _queue_count(
        self, query: Query, args: Sequence[Any] = (), *, durable: bool = True
    ) -> int:
        """`_queue_rows` for a statement that returns no rows: how many it changed."""
        async with self._tx() as conn:
            await conn.execute(_QUEUE_PLAN if durable else _QUEUE_PLAN_ASYNC)
            return (await conn.execute(query, args)).rowcount

    async def upgrade(self) -> list[str]:
        # One transaction under an advisory lock: two processes upgrading at once run one
        # after the other, the second finds every script recorded, and a failing script
        # leaves the schema as it was (PostgreSQL's DDL is transactional).
        applied = []
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name text PRIMARY KEY, applied timestamptz NOT NULL)"
            )
            cursor = await conn.execute("SELECT name FROM schema_migrations")
            done = {row[0] for row in await cursor.fetchall()}
            for name, script in migration_scripts("postgres"):
                if name in done:
                    continue
                # No parameters: psycopg sends the script as one simple query, so it may hold
                # many statements.
                await conn.execute(script.encode("utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (name, applied) VALUES (%s, now())", (name,)
                )
                applied.append(name)
        return applied
