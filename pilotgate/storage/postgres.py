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
from typing import Any, LiteralString

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from pilotgate.domain import routing
from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.messages import Draft, Message, Status
from pilotgate.domain.routing import Route
from pilotgate.domain.senders import SenderState
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import ConflictError, InsufficientFundsError, NotFoundError, StorageError

from .base import (
    AccountChanges,
    CallbackJob,
    CallbackResult,
    ConnectorInfo,
    Handover,
    Inbound,
    NewAccount,
    QueueStats,
    Sender,
    Submitted,
    TariffInfo,
    migration_scripts,
)

Connection = AsyncConnection[TupleRow]
_PendingSubmit = tuple[int, Sequence[Draft], datetime, "asyncio.Future[Submitted]"]
Query = LiteralString | sql.SQL | sql.Composed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Key of the advisory lock that serialises `upgrade` across processes ("pilotgat" in ASCII).
_MIGRATION_LOCK = 0x70696C6F74676174

#: Above this many rows `submit` streams messages with COPY; below, executemany (pipelined)
#: is as fast and skips the COPY set-up.
_COPY_THRESHOLD = 50

_MESSAGE_COLUMNS = sql.SQL(
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route"
)
_ACCOUNT_COLUMNS = sql.SQL(
    "id, email, password_hash, name, phone, tariff_id, default_sender, any_sender, allow_ip, "
    "state, referrer_id, balance, created, status_url, status_method, inbound_url, "
    "callback_secret"
)
_SENDER_COLUMNS = sql.SQL("id, account_id, name, state, description, callback, created")
_INBOUND_COLUMNS = sql.SQL("id, account_id, phone, num, text, created, server_id")
_CALLBACK_COLUMNS = sql.SQL(
    "id, kind, account_id, ref, url, method, status, error, attempts, created"
)

_SELECT_ACCOUNT = sql.SQL("SELECT {} FROM accounts ").format(_ACCOUNT_COLUMNS)
_SELECT_MESSAGE = sql.SQL("SELECT {} FROM messages ").format(_MESSAGE_COLUMNS)

_INSERT_MESSAGE = sql.SQL(
    "INSERT INTO messages ({}, due_at, expires_at) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s)"
).format(_MESSAGE_COLUMNS)
_COPY_MESSAGES = sql.SQL(
    "COPY messages ({}, due_at, expires_at) FROM STDIN (FORMAT BINARY)"
).format(_MESSAGE_COLUMNS)
#: Binary COPY (a fraction of text COPY's client CPU) needs every column's exact type: these
#: follow _MESSAGE_COLUMNS + due_at, expires_at as the migrations declare them. A mismatch
#: fails loudly ("incorrect binary data format"), never silently.
_COPY_TYPES = [
    "int8", "int8", "int8", "text", "text", "text", "text", "int4", "text", "int8",
    "int2", "int4", "timestamptz", "int4", "text", "text", "timestamptz", "timestamptz",
    "text", "text", "bool", "text", "timestamptz", "timestamptz",
]  # fmt: skip

#: Ids are bigint; a larger number cannot name a message, so it is simply not found.
_MAX_ID = 2**63 - 1

_CLAIM = sql.SQL(
    "UPDATE messages SET lease_owner = %s, lease_until = %s, handing = true WHERE id IN ("
    "SELECT id FROM messages WHERE status = 0 AND NOT handing AND due_at <= %s "
    "AND (lease_until IS NULL OR lease_until < %s) ORDER BY due_at, id LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING {}"
).format(_MESSAGE_COLUMNS)


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


def _inbound(row: TupleRow) -> Inbound:
    return Inbound(
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
        d.send_datetime or now,
        d.expires_at,
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


class PostgresStore:
    """`Store` on a PostgreSQL database (the schema is the first one on the search_path)."""

    def __init__(self, pool: AsyncConnectionPool[Connection]) -> None:
        self._pool = pool
        self._pending: list[_PendingSubmit] = []
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> PostgresStore:
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

    # accounts and money ----------------------------------------------------------------------
    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        async with self._tx() as conn:
            cursor = await conn.execute(
                sql.SQL(
                    "INSERT INTO accounts (email, password_hash, name, phone, tariff_id, "
                    "default_sender, any_sender, allow_ip, created, callback_secret) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {}"
                ).format(_ACCOUNT_COLUMNS),
                (
                    new.email,
                    new.password_hash,
                    new.name,
                    new.phone,
                    new.tariff_id,
                    new.default_sender,
                    new.any_sender,
                    new.allow_ip,
                    now,
                    new.callback_secret,
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            await conn.execute(
                "INSERT INTO api_keys (digest, account_id, created) VALUES (%s, %s, %s)",
                (new.key_digest, row[0], now),
            )
        return _account(row)

    async def account(self, account_id: int) -> Account | None:
        rows = await self._rows(_SELECT_ACCOUNT + sql.SQL("WHERE id = %s"), (account_id,))
        return _account(rows[0]) if rows else None

    async def account_by_key(self, digest: str) -> Account | None:
        rows = await self._rows(
            _SELECT_ACCOUNT
            + sql.SQL("WHERE id = (SELECT account_id FROM api_keys WHERE digest = %s)"),
            (digest,),
        )
        return _account(rows[0]) if rows else None

    async def account_by_email(self, email: str) -> Account | None:
        # Case-insensitive like the SQLite store's COLLATE NOCASE; the unique constraint
        # itself is case-sensitive in both, hence the deterministic ORDER BY.
        rows = await self._rows(
            _SELECT_ACCOUNT + sql.SQL("WHERE lower(email) = lower(%s) ORDER BY id LIMIT 1"),
            (email,),
        )
        return _account(rows[0]) if rows else None

    async def accounts(self) -> list[Account]:
        return [_account(row) for row in await self._rows(_SELECT_ACCOUNT + sql.SQL("ORDER BY id"))]

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        moved = await self._count(
            "UPDATE accounts SET state = %s WHERE id = %s", (state.value, account_id)
        )
        if moved == 0:
            raise NotFoundError(f"no account {account_id}")

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        c = changes
        moved = await self._count(
            "UPDATE accounts SET name = COALESCE(%s, name), phone = COALESCE(%s, phone), "
            "tariff_id = COALESCE(%s, tariff_id), "
            "default_sender = COALESCE(%s, default_sender), "
            "any_sender = COALESCE(%s, any_sender), allow_ip = COALESCE(%s, allow_ip), "
            "status_url = COALESCE(%s, status_url), "
            "status_method = COALESCE(%s, status_method), "
            "inbound_url = COALESCE(%s, inbound_url), "
            "callback_secret = COALESCE(%s, callback_secret) WHERE id = %s",
            (
                c.name,
                c.phone,
                c.tariff_id,
                c.default_sender,
                c.any_sender,
                c.allow_ip,
                c.status_url,
                c.status_method,
                c.inbound_url,
                c.callback_secret,
                account_id,
            ),
        )
        account = await self.account(account_id)
        if moved == 0 or account is None:
            raise NotFoundError(f"no account {account_id}")
        return account

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO api_keys (digest, account_id, created) VALUES (%s, %s, %s)",
                (digest, account_id, now),
            )

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        async with self._tx() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET balance = balance + %s WHERE id = %s "
                "AND balance + %s >= 0 RETURNING balance",
                (amount, account_id, amount),
            )
            row = await cursor.fetchone()
            if row is None:
                cursor = await conn.execute("SELECT 1 FROM accounts WHERE id = %s", (account_id,))
                if await cursor.fetchone() is not None:
                    raise InsufficientFundsError(f"account {account_id}")
                raise NotFoundError(f"no account {account_id}")
            await conn.execute(
                "INSERT INTO ledger (account_id, amount, kind, note, created) "
                "VALUES (%s, %s, %s, %s, %s)",
                (account_id, amount, kind, note, now),
            )
        return int(row[0])

    async def ledger_sum(self, account_id: int) -> int:
        rows = await self._rows(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = %s",
            (account_id,),
        )
        return int(rows[0][0])  # SUM(bigint) is numeric: int() keeps it exact

    # senders -----------------------------------------------------------------------------------
    async def add_sender(
        self,
        account_id: int,
        name: str,
        description: str,
        callback: str,
        state: SenderState,
        now: datetime,
    ) -> Sender:
        rows = await self._rows(
            sql.SQL(
                "INSERT INTO senders (account_id, name, state, description, callback, created) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING {}"
            ).format(_SENDER_COLUMNS),
            (account_id, name, state.value, description, callback, now),
        )
        return _sender(rows[0])

    async def set_sender_state(self, sender_id: int, state: SenderState) -> Sender:
        rows = await self._rows(
            sql.SQL("UPDATE senders SET state = %s WHERE id = %s RETURNING {}").format(
                _SENDER_COLUMNS
            ),
            (state.value, sender_id),
        )
        if not rows:
            raise NotFoundError(f"no sender {sender_id}")
        return _sender(rows[0])

    async def senders(self, account_id: int) -> list[Sender]:
        rows = await self._rows(
            sql.SQL("SELECT {} FROM senders WHERE account_id = %s ORDER BY id").format(
                _SENDER_COLUMNS
            ),
            (account_id,),
        )
        return [_sender(row) for row in rows]

    # tariffs -----------------------------------------------------------------------------------
    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO tariffs (id, name) VALUES (%s, %s) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (tariff_id, name),
            )
            await conn.execute("DELETE FROM tariff_rates WHERE tariff_id = %s", (tariff_id,))
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO tariff_rates (tariff_id, prefix, channel, price, country, "
                    "operator) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (tariff_id, r.prefix, r.channel, r.price, r.country, r.operator)
                        for r in rates
                    ],
                )

    async def tariff_rates(self, tariff_id: int) -> list[Rate]:
        # COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        rows = await self._rows(
            (
                "SELECT prefix, channel, price, country, operator FROM tariff_rates "
                'WHERE tariff_id = %s ORDER BY prefix COLLATE "C", channel COLLATE "C"'
            ),
            (tariff_id,),
        )
        return [
            Rate(prefix=row[0], channel=row[1], price=row[2], country=row[3], operator=row[4])
            for row in rows
        ]

    async def tariffs(self) -> list[TariffInfo]:
        rows = await self._rows(
            "SELECT t.id, t.name, COUNT(r.prefix) FROM tariffs t LEFT JOIN tariff_rates r "
            "ON r.tariff_id = t.id GROUP BY t.id, t.name ORDER BY t.id"
        )
        return [TariffInfo(id=row[0], name=row[1], rates=row[2]) for row in rows]

    # messages ----------------------------------------------------------------------------------
    async def submit(self, account_id: int, drafts: Sequence[Draft], now: datetime) -> Submitted:
        # Group commit: submits that arrive while a batch is being written wait and go
        # together in the next transaction; every caller is answered after its COMMIT. One
        # fsync then serves many concurrent single sends.
        future: asyncio.Future[Submitted] = asyncio.get_running_loop().create_future()
        self._pending.append((account_id, drafts, now, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_submits())
        return await future

    async def _flush_submits(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await self._submit_batch(batch)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
                error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
                outcomes = [error] * len(batch)
            for (_, _, _, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # the caller went away; its rows are committed anyway
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _submit_batch(self, batch: list[_PendingSubmit]) -> list[Submitted | StorageError]:
        outcomes: list[Submitted | StorageError] = [StorageError("not written")] * len(batch)
        async with self._tx() as conn:
            # Debit in account order: two processes' batches then lock accounts in the same
            # order and cannot deadlock. A refused debit writes nothing for that submit.
            balances: dict[int, int] = {}
            for index in sorted(range(len(batch)), key=lambda i: batch[i][0]):
                account_id, drafts, _, _ = batch[index]
                cost = sum(draft.price for draft in drafts)
                cursor = await conn.execute(
                    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s "
                    "RETURNING balance",
                    (cost, account_id, cost),
                )
                row = await cursor.fetchone()
                if row is None:
                    outcomes[index] = InsufficientFundsError(
                        f"account {account_id} cannot pay {cost}"
                    )
                else:
                    balances[index] = int(row[0])
            total = sum(len(batch[index][1]) for index in balances)
            cursor = await conn.execute(
                "SELECT nextval('message_ids') FROM generate_series(1, %s)", (total,)
            )
            # Sorted ids, handed out in request order: each packet's ids increase in draft
            # order, and the smallest one names the packet.
            ids = iter(sorted(int(r[0]) for r in await cursor.fetchall()))
            rows: list[tuple[Any, ...]] = []
            ledger: list[tuple[Any, ...]] = []
            for index, (account_id, drafts, now, _) in enumerate(batch):
                if index not in balances:
                    continue
                server_ids = [next(ids) for _ in drafts]
                first = server_ids[0] if server_ids else 0
                rows.extend(
                    _message_row(server_id, first, account_id, d, now)
                    for server_id, d in zip(server_ids, drafts, strict=True)
                )
                cost = sum(draft.price for draft in drafts)
                if cost:
                    ledger.append(
                        (account_id, -cost, "send", first, f"{len(drafts)} messages", now)
                    )
                outcomes[index] = Submitted(server_ids=server_ids, balance=balances[index])
            async with conn.cursor() as cur:
                if len(rows) > _COPY_THRESHOLD:
                    async with cur.copy(_COPY_MESSAGES) as copy:
                        copy.set_types(_COPY_TYPES)
                        for message in rows:
                            await copy.write_row(message)
                elif rows:
                    await cur.executemany(_INSERT_MESSAGE, rows)
                if ledger:
                    await cur.executemany(
                        "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        ledger,
                    )
        return outcomes

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        if not wanted:
            return []
        # The bigint[] cast matters: psycopg sends small ints as smallint[], and a cross-type
        # `= ANY` is a linear scan of the array per row instead of a hash lookup.
        rows = await self._rows(
            _SELECT_MESSAGE
            + sql.SQL("WHERE account_id = %s AND id = ANY(%s::bigint[]) ORDER BY id"),
            (account_id, wanted),
        )
        return [_message(row) for row in rows]

    async def find_messages(
        self,
        account_id: int,
        *,
        since: datetime | None = None,
        packet_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Message]:
        if packet_id is not None:
            if not -_MAX_ID <= packet_id <= _MAX_ID:
                return []
            query = _SELECT_MESSAGE + sql.SQL(
                "WHERE packet_id = %s AND account_id = %s ORDER BY id DESC LIMIT %s OFFSET %s"
            )
            args: tuple[Any, ...] = (packet_id, account_id, limit, offset)
        else:
            query = _SELECT_MESSAGE + sql.SQL(
                "WHERE account_id = %s AND created >= %s ORDER BY id DESC LIMIT %s OFFSET %s"
            )
            args = (account_id, since or _EPOCH, limit, offset)
        return [_message(row) for row in await self._rows(query, args)]

    # the outbox --------------------------------------------------------------------------------
    async def release_scheduled(self, now: datetime) -> int:
        return await self._count(
            "UPDATE messages SET status = 0, modified = %s WHERE status = 3 AND due_at <= %s",
            (now, now),
        )

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Message]:
        rows = await self._rows(_CLAIM, (owner, lease_until, now, now, limit))
        return sorted((_message(row) for row in rows), key=lambda m: m.server_id)

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        if not handovers:
            return 0
        async with self._tx() as conn, conn.cursor() as cursor:
            await cursor.executemany(
                "UPDATE messages SET status = 1, modified = %s, connector = %s, "
                "remote_id = %s, outcome_status = %s, outcome_error = %s, outcome_at = %s, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE id = %s AND status = 0 AND lease_owner = %s",
                [
                    (
                        now,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        h.outcome_at,
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            # executemany adds up the rows every statement changed.
            return cursor.rowcount

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        return await self._count(
            (
                "UPDATE messages SET status = outcome_status, error = outcome_error, "
                "modified = %s WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                "outcome_at <= %s ORDER BY outcome_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            ),
            (now, now, limit),
        )

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        if ids is None:
            return await self._count(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = false "
                "WHERE lease_owner = %s AND status = 0",
                (owner,),
            )
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        return await self._count(
            "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = false "
            "WHERE id = ANY(%s::bigint[]) AND lease_owner = %s AND status = 0",
            (wanted, owner),
        )

    # connectors and routes ---------------------------------------------------------------------
    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        await self._count(
            "INSERT INTO connectors (name, kind, settings, mps, enabled) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
            "settings = excluded.settings, mps = excluded.mps, enabled = excluded.enabled",
            (name, kind, settings, mps, enabled),
        )

    async def connectors(self) -> list[ConnectorInfo]:
        return [
            ConnectorInfo(
                name=row[0],
                kind=row[1],
                settings=row[2],
                enabled=row[3],
                mps=row[4],
                handed=row[5],
                heartbeat=row[6],
            )
            for row in await self._rows(
                "SELECT name, kind, settings, enabled, mps, handed, heartbeat FROM connectors "
                "ORDER BY name"
            )
        ]

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        if not await self._count(
            "UPDATE connectors SET enabled = %s WHERE name = %s", (enabled, name)
        ):
            raise NotFoundError(f"no connector {name!r}")

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        async with self._tx() as conn:
            # FOR UPDATE: processes take tokens one after the other, so the limit holds
            # for all of them together.
            cursor = await conn.execute(
                "SELECT tokens, tokens_at, mps FROM connectors WHERE name = %s FOR UPDATE",
                (name,),
            )
            row = await cursor.fetchone()
            if row is None:
                return 0
            granted, left = routing.grant(row[0], row[1], now, row[2], want)
            await conn.execute(
                "UPDATE connectors SET tokens = %s, tokens_at = %s WHERE name = %s",
                (left, now, name),
            )
            return granted

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        await self._count(
            "UPDATE connectors SET handed = handed + %s, heartbeat = %s WHERE name = %s",
            (count, now, name),
        )

    async def routes(self) -> list[Route]:
        return [
            Route(prefix=row[0], channel=row[1], connectors=routing.parse_connectors(row[2]))
            for row in await self._rows(
                'SELECT prefix, channel, connectors FROM routes ORDER BY prefix COLLATE "C", '
                "channel"
            )
        ]

    async def save_route(self, route: Route) -> None:
        await self._count(
            "INSERT INTO routes VALUES (%s, %s, %s) ON CONFLICT (prefix, channel) "
            "DO UPDATE SET connectors = excluded.connectors",
            (route.prefix, route.channel, ",".join(route.connectors)),
        )

    async def remove_route(self, prefix: str, channel: str) -> bool:
        return bool(
            await self._count(
                "DELETE FROM routes WHERE prefix = %s AND channel = %s", (prefix, channel)
            )
        )

    async def expire(self, now: datetime, limit: int) -> int:
        return await self._count(
            "UPDATE messages SET status = -1, error = 600, modified = %s, lease_owner = NULL, "
            "lease_until = NULL WHERE id IN (SELECT id FROM messages WHERE status IN (0, 1, 3) "
            "AND expires_at <= %s ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            (now, now, limit),
        )

    # callbacks ---------------------------------------------------------------------------------
    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        rows = await self._rows(
            sql.SQL(
                "UPDATE callbacks SET lease_owner = %s, lease_until = %s WHERE id IN ("
                "SELECT c.id FROM callbacks c WHERE c.done_at IS NULL AND c.due_at <= %s "
                "AND (c.lease_until IS NULL OR c.lease_until < %s) AND NOT EXISTS ("
                "SELECT 1 FROM callbacks p WHERE p.kind = c.kind AND p.ref = c.ref "
                "AND p.id < c.id AND p.done_at IS NULL) ORDER BY c.due_at, c.id LIMIT %s "
                "FOR UPDATE SKIP LOCKED) RETURNING {}"
            ).format(_CALLBACK_COLUMNS),
            (owner, lease_until, now, now, limit),
        )
        return sorted((_callback(row) for row in rows), key=lambda job: job.id)

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        if not results:
            return 0
        async with self._tx() as conn, conn.cursor() as cur:
            await cur.executemany(
                "UPDATE callbacks SET attempts = attempts + 1, last_error = %s, "
                "done_at = CASE WHEN %s::timestamptz IS NULL THEN %s ELSE NULL END, "
                "failed = %s, due_at = COALESCE(%s, due_at), lease_owner = NULL, "
                "lease_until = NULL WHERE id = %s AND lease_owner = %s AND done_at IS NULL",
                [
                    (
                        r.error,
                        r.retry_at,
                        now,
                        not r.acknowledged and r.retry_at is None,
                        r.retry_at,
                        r.job_id,
                        owner,
                    )
                    for r in results
                ],
            )
            return cur.rowcount

    async def messages_by_ids(self, ids: Sequence[int]) -> list[Message]:
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        if not wanted:
            return []
        rows = await self._rows(
            _SELECT_MESSAGE + sql.SQL("WHERE id = ANY(%s::bigint[]) ORDER BY id"), (wanted,)
        )
        return [_message(row) for row in rows]

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[Inbound]:
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        if not wanted:
            return []
        rows = await self._rows(
            sql.SQL("SELECT {} FROM inbound WHERE id = ANY(%s::bigint[]) ORDER BY id").format(
                _INBOUND_COLUMNS
            ),
            (wanted,),
        )
        return [_inbound(row) for row in rows]

    async def callback_backlog(self, now: datetime) -> tuple[int, int]:
        rows = await self._rows(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE due_at <= %s) FROM callbacks "
            "WHERE done_at IS NULL",
            (now,),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def queue_stats(self, now: datetime) -> QueueStats:
        rows = await self._rows(
            "SELECT (SELECT COUNT(*) FROM messages WHERE status = 0), "
            "(SELECT COUNT(*) FROM messages WHERE status = 1), "
            "(SELECT COUNT(*) FROM messages WHERE status = 3), "
            "(SELECT MIN(due_at) FROM messages WHERE status = 0 AND due_at <= %s)",
            (now,),
        )
        accepted, handed_over, scheduled, oldest = rows[0]
        pending, due = await self.callback_backlog(now)
        return QueueStats(
            accepted=int(accepted),
            handed_over=int(handed_over),
            scheduled=int(scheduled),
            oldest_due_seconds=0.0 if oldest is None else (now - oldest).total_seconds(),
            callbacks_pending=pending,
            callbacks_due=due,
        )

    # inbound -----------------------------------------------------------------------------------
    async def add_inbound(
        self,
        account_id: int,
        phone: str,
        num: str,
        text: str,
        now: datetime,
        server_id: int | None = None,
    ) -> int:
        rows = await self._rows(
            (
                "INSERT INTO inbound (account_id, phone, num, text, created, server_id) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
            ),
            (account_id, phone, num, text, now, server_id),
        )
        return int(rows[0][0])

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[Inbound]:
        if only_new:
            # One statement reads and marks, so two pollers never both get the same row.
            query = sql.SQL(
                "UPDATE inbound SET fetched = true WHERE account_id = %s AND NOT fetched "
                "RETURNING {}"
            ).format(_INBOUND_COLUMNS)
            args: tuple[Any, ...] = (account_id,)
        elif since is None:
            query = sql.SQL("SELECT {} FROM inbound WHERE account_id = %s").format(_INBOUND_COLUMNS)
            args = (account_id,)
        else:
            query = sql.SQL("SELECT {} FROM inbound WHERE account_id = %s AND created > %s").format(
                _INBOUND_COLUMNS
            )
            args = (account_id, since)
        items = [_inbound(row) for row in await self._rows(query, args)]
        return sorted(items, key=lambda item: item.id, reverse=True)
