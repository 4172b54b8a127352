"""SQLite store (the default). One connection, WAL journal, used from the event loop thread.

Why synchronous calls inside `async def`: every statement here is local and short (tens of
microseconds), so a thread hop would cost more than the work. Writers serialise on SQLite's
lock; `BEGIN IMMEDIATE` takes it at the start so a transaction never fails half-way on
upgrade. `synchronous=NORMAL` in WAL mode makes every commit survive a crash of the process
(kill -9); set `sqlite_synchronous = "FULL"` to also survive a power cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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

FIRST_SERVER_ID = 10000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: SQLite integers are 64-bit; a larger id names no message (and would raise OverflowError).
_MAX_ID = 2**63 - 1

_MESSAGE_COLUMNS = (
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route"
)
_ACCOUNT_COLUMNS = (
    "id, email, password_hash, name, phone, tariff_id, default_sender, any_sender, allow_ip, "
    "state, referrer_id, balance, created, status_url, status_method, inbound_url, "
    "callback_secret"
)


def _us(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


def _dt(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _opt_dt(micros: int | None) -> datetime | None:
    return None if micros is None else _dt(micros)


_CALLBACK_COLUMNS = "id, kind, account_id, ref, url, method, status, error, attempts, created"
_INBOUND_COLUMNS = "id, account_id, phone, num, text, created, server_id"
_MAX_ID = 2**63 - 1


def _id_chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """Ids in chunks SQLite's parameter limit allows; ids beyond 64 bits name nothing."""
    usable = [i for i in ids if 0 <= i <= _MAX_ID]
    for start in range(0, len(usable), 500):
        yield usable[start : start + 500]


def _callback(row: sqlite3.Row) -> CallbackJob:
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
        created=_dt(row[9]),
    )


def _inbound(row: sqlite3.Row) -> Inbound:
    return Inbound(
        id=row[0],
        account_id=row[1],
        phone=row[2],
        num=row[3],
        text=row[4],
        created=_dt(row[5]),
        server_id=row[6],
    )


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, one by one. executescript() would commit on its own;
    SQLite's own tokenizer tells where a statement ends (";" inside a trigger body or a
    comment does not)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        yield buffer


def _account(row: sqlite3.Row) -> Account:
    return Account(
        id=row[0],
        email=row[1],
        password_hash=row[2],
        name=row[3],
        phone=row[4],
        tariff_id=row[5],
        default_sender=row[6],
        any_sender=bool(row[7]),
        allow_ip=row[8],
        state=AccountState(row[9]),
        referrer_id=row[10],
        balance=row[11],
        created=_dt(row[12]),
        status_url=row[13],
        status_method=row[14],
        inbound_url=row[15],
        callback_secret=row[16],
    )


def _message(row: sqlite3.Row) -> Message:
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
        send_datetime=_opt_dt(row[12]),
        ttl=row[13],
        callback=row[14],
        callback_method=row[15],
        created=_dt(row[16]),
        modified=_dt(row[17]),
        country=row[18],
        operator=row[19],
        test=bool(row[20]),
        route=row[21],
    )


def _sender(row: sqlite3.Row) -> Sender:
    return Sender(
        id=row[0],
        account_id=row[1],
        name=row[2],
        state=SenderState(row[3]),
        description=row[4],
        callback=row[5],
        created=_dt(row[6]),
    )


class SqliteStore:
    """`Store` on one SQLite file (or ":memory:")."""

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {path}: {exc}") from exc
        self._pending: list[tuple[int, Sequence[Draft], datetime, asyncio.Future[Submitted]]] = []

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; driver errors become StorageError here and only here."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            raise StorageError(str(exc)) from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    async def upgrade(self) -> list[str]:
        # One IMMEDIATE transaction: a second process upgrading at the same time waits for
        # the write lock, then reads the recorded names and finds nothing left to do.
        applied = []
        with self._tx() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name TEXT PRIMARY KEY, applied INTEGER NOT NULL)"
            )
            done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
            for name, script in migration_scripts("sqlite"):
                if name in done:
                    continue
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (name, _us(datetime.now(UTC)))
                )
                applied.append(name)
        return applied

    async def close(self) -> None:
        self._db.close()

    # accounts and money ----------------------------------------------------------------------
    async def create_account(self, new: NewAccount, now: datetime) -> Account:
        try:
            with self._tx() as db:
                cursor = db.execute(
                    "INSERT INTO accounts (email, password_hash, name, phone, tariff_id, "
                    "default_sender, any_sender, allow_ip, created, callback_secret) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        new.email,
                        new.password_hash,
                        new.name,
                        new.phone,
                        new.tariff_id,
                        new.default_sender,
                        int(new.any_sender),
                        new.allow_ip,
                        _us(now),
                        new.callback_secret,
                    ),
                )
                account_id = cursor.lastrowid
                db.execute(
                    "INSERT INTO api_keys VALUES (?, ?, ?)", (new.key_digest, account_id, _us(now))
                )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        account = await self.account(int(account_id or 0))
        assert account is not None
        return account

    async def account(self, account_id: int) -> Account | None:
        rows = self._read(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
        return _account(rows[0]) if rows else None

    async def account_by_key(self, digest: str) -> Account | None:
        rows = self._read(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = "
            "(SELECT account_id FROM api_keys WHERE digest = ?)",
            (digest,),
        )
        return _account(rows[0]) if rows else None

    async def account_by_email(self, email: str) -> Account | None:
        rows = self._read(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE email = ? COLLATE NOCASE", (email,)
        )
        return _account(rows[0]) if rows else None

    async def accounts(self) -> list[Account]:
        return [
            _account(row)
            for row in self._read(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY id")
        ]

    async def set_account_state(self, account_id: int, state: AccountState) -> None:
        with self._tx() as db:
            if (
                db.execute(
                    "UPDATE accounts SET state = ? WHERE id = ?", (state.value, account_id)
                ).rowcount
                == 0
            ):
                raise NotFoundError(f"no account {account_id}")

    async def update_account(self, account_id: int, changes: AccountChanges) -> Account:
        c = changes
        any_sender = None if c.any_sender is None else int(c.any_sender)
        with self._tx() as db:
            moved = db.execute(
                "UPDATE accounts SET name = COALESCE(?, name), phone = COALESCE(?, phone), "
                "tariff_id = COALESCE(?, tariff_id), "
                "default_sender = COALESCE(?, default_sender), "
                "any_sender = COALESCE(?, any_sender), allow_ip = COALESCE(?, allow_ip), "
                "status_url = COALESCE(?, status_url), "
                "status_method = COALESCE(?, status_method), "
                "inbound_url = COALESCE(?, inbound_url), "
                "callback_secret = COALESCE(?, callback_secret) WHERE id = ?",
                (
                    c.name,
                    c.phone,
                    c.tariff_id,
                    c.default_sender,
                    any_sender,
                    c.allow_ip,
                    c.status_url,
                    c.status_method,
                    c.inbound_url,
                    c.callback_secret,
                    account_id,
                ),
            ).rowcount
        account = await self.account(account_id)
        if moved == 0 or account is None:
            raise NotFoundError(f"no account {account_id}")
        return account

    async def add_api_key(self, account_id: int, digest: str, now: datetime) -> None:
        try:
            with self._tx() as db:
                db.execute("INSERT INTO api_keys VALUES (?, ?, ?)", (digest, account_id, _us(now)))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc

    async def credit(
        self, account_id: int, amount: int, kind: str, note: str, now: datetime
    ) -> int:
        with self._tx() as db:
            row = db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0 "
                "RETURNING balance",
                (amount, account_id, amount),
            ).fetchone()
            if row is None:
                if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone():
                    raise InsufficientFundsError(f"account {account_id}")
                raise NotFoundError(f"no account {account_id}")
            db.execute(
                "INSERT INTO ledger (account_id, amount, kind, note, created) VALUES (?,?,?,?,?)",
                (account_id, amount, kind, note, _us(now)),
            )
            return int(row[0])

    async def ledger_sum(self, account_id: int) -> int:
        return int(
            self._read(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = ?", (account_id,)
            )[0][0]
        )

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
        try:
            with self._tx() as db:
                row = db.execute(
                    "INSERT INTO senders (account_id, name, state, description, callback, "
                    "created) VALUES (?,?,?,?,?,?) RETURNING id, account_id, name, state, "
                    "description, callback, created",
                    (account_id, name, state.value, description, callback, _us(now)),
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        return _sender(row)

    async def set_sender_state(self, sender_id: int, state: SenderState) -> Sender:
        with self._tx() as db:
            row = db.execute(
                "UPDATE senders SET state = ? WHERE id = ? RETURNING id, account_id, name, "
                "state, description, callback, created",
                (state.value, sender_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no sender {sender_id}")
        return _sender(row)

    async def senders(self, account_id: int) -> list[Sender]:
        return [
            _sender(row)
            for row in self._read(
                "SELECT id, account_id, name, state, description, callback, created FROM senders "
                "WHERE account_id = ? ORDER BY id",
                (account_id,),
            )
        ]

    # tariffs -----------------------------------------------------------------------------------
    async def replace_tariff(self, tariff_id: int, name: str, rates: Sequence[Rate]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO tariffs (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (tariff_id, name),
            )
            db.execute("DELETE FROM tariff_rates WHERE tariff_id = ?", (tariff_id,))
            db.executemany(
                "INSERT INTO tariff_rates VALUES (?,?,?,?,?,?)",
                [(tariff_id, r.prefix, r.channel, r.price, r.country, r.operator) for r in rates],
            )

    async def tariff_rates(self, tariff_id: int) -> list[Rate]:
        return [
            Rate(prefix=row[0], channel=row[1], price=row[2], country=row[3], operator=row[4])
            for row in self._read(
                "SELECT prefix, channel, price, country, operator FROM tariff_rates "
                "WHERE tariff_id = ? ORDER BY prefix, channel",
                (tariff_id,),
            )
        ]

    async def tariffs(self) -> list[TariffInfo]:
        return [
            TariffInfo(id=row[0], name=row[1], rates=row[2])
            for row in self._read(
                "SELECT t.id, t.name, COUNT(r.prefix) FROM tariffs t LEFT JOIN tariff_rates r "
                "ON r.tariff_id = t.id GROUP BY t.id, t.name ORDER BY t.id"
            )
        ]

    # messages ----------------------------------------------------------------------------------
    async def submit(self, account_id: int, drafts: Sequence[Draft], now: datetime) -> Submitted:
        # Group commit: submits that arrive while the event loop is busy are written in one
        # transaction, and each caller is answered only after that COMMIT. Concurrent single
        # sends then cost one commit per batch instead of one each.
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Submitted] = loop.create_future()
        self._pending.append((account_id, drafts, now, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush_submits)
        return await future

    def _flush_submits(self) -> None:
        batch, self._pending = self._pending, []
        results: list[Submitted | BaseException] = []
        try:
            with self._tx() as db:
                last = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
                next_id = max(FIRST_SERVER_ID, (last or 0) + 1)
                rows: list[tuple[Any, ...]] = []
                for account_id, drafts, now, _ in batch:
                    outcome = self._submit_one(db, account_id, drafts, now, next_id, rows)
                    results.append(outcome)
                    if isinstance(outcome, Submitted):
                        next_id += len(drafts)
                db.executemany(
                    f"INSERT INTO messages ({_MESSAGE_COLUMNS}, due_at, expires_at) VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
            error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
            results = [error] * len(batch)
        for (_, _, _, future), outcome in zip(batch, results, strict=True):
            if future.done():
                continue  # the caller went away (cancelled); its rows are committed anyway
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    @staticmethod
    def _submit_one(
        db: sqlite3.Connection,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        first: int,
        rows: list[tuple[Any, ...]],
    ) -> Submitted | BaseException:
        """Debit and queue the rows of one submit; the debit is the first write, so a refusal
        leaves nothing of this submit behind."""
        cost = sum(draft.price for draft in drafts)
        balance = db.execute(
            "UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ? "
            "RETURNING balance",
            (cost, account_id, cost),
        ).fetchone()
        if balance is None:
            return InsufficientFundsError(f"account {account_id} cannot pay {cost}")
        stamp = _us(now)
        ids = list(range(first, first + len(drafts)))
        rows.extend(
            (
                server_id,
                first,
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
                None if d.send_datetime is None else _us(d.send_datetime),
                d.ttl,
                d.callback,
                d.callback_method,
                stamp,
                stamp,
                d.country,
                d.operator,
                int(d.test),
                d.route,
                _us(d.send_datetime) if d.send_datetime is not None else stamp,
                None if d.expires_at is None else _us(d.expires_at),
            )
            for server_id, d in zip(ids, drafts, strict=True)
        )
        if cost:
            db.execute(
                "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                "VALUES (?,?,?,?,?,?)",
                (account_id, -cost, "send", first, f"{len(drafts)} messages", stamp),
            )
        return Submitted(server_ids=ids, balance=int(balance[0]))

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        found: list[Message] = []
        ids = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.extend(
                _message(row)
                for row in self._read(
                    f"SELECT {_MESSAGE_COLUMNS} FROM messages "
                    f"WHERE account_id = ? AND id IN ({marks})",
                    [account_id, *chunk],
                )
            )
        return found

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
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE packet_id = ? "
                "AND account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
            )
            args: list[Any] = [packet_id, account_id, limit, offset]
        else:
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE account_id = ? "
                "AND created >= ? ORDER BY id DESC LIMIT ? OFFSET ?"
            )
            args = [account_id, _us(since) if since else 0, limit, offset]
        return [_message(row) for row in self._read(sql, args)]

    # the outbox --------------------------------------------------------------------------------
    async def release_scheduled(self, now: datetime) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = 0, modified = ? WHERE status = 3 AND due_at <= ?",
                (_us(now), _us(now)),
            ).rowcount

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Message]:
        with self._tx() as db:
            rows = db.execute(
                f"UPDATE messages SET lease_owner = ?, lease_until = ?, handing = 1 WHERE id IN ("
                "SELECT id FROM messages WHERE status = 0 AND handing = 0 AND due_at <= ? "
                "AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at, id LIMIT ?) "
                f"RETURNING {_MESSAGE_COLUMNS}",
                (owner, _us(lease_until), _us(now), _us(now), limit),
            ).fetchall()
        return sorted((_message(row) for row in rows), key=lambda m: m.server_id)

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        stamp = _us(now)
        with self._tx() as db:
            cursor = db.executemany(
                "UPDATE messages SET status = 1, modified = ?, connector = ?, remote_id = ?, "
                "outcome_status = ?, outcome_error = ?, outcome_at = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ? AND status = 0 AND lease_owner = ?",
                [
                    (
                        stamp,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        None if h.outcome_at is None else _us(h.outcome_at),
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            return cursor.rowcount

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = outcome_status, error = outcome_error, "
                "modified = ? WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                "outcome_at <= ? ORDER BY outcome_at LIMIT ?)",
                (_us(now), _us(now), limit),
            ).rowcount

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        with self._tx() as db:
            if ids is None:
                return db.execute(
                    "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = 0 "
                    "WHERE lease_owner = ? AND status = 0",
                    (owner,),
                ).rowcount
            return db.executemany(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = 0 "
                "WHERE id = ? AND lease_owner = ? AND status = 0",
                [(server_id, owner) for server_id in ids],
            ).rowcount

    # connectors and routes ---------------------------------------------------------------------
    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO connectors (name, kind, settings, mps, enabled) VALUES (?,?,?,?,?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                "settings = excluded.settings, mps = excluded.mps, enabled = excluded.enabled",
                (name, kind, settings, mps, int(enabled)),
            )

    async def connectors(self) -> list[ConnectorInfo]:
        return [
            ConnectorInfo(
                name=row[0],
                kind=row[1],
                settings=row[2],
                enabled=bool(row[3]),
                mps=row[4],
                handed=row[5],
                heartbeat=_opt_dt(row[6]),
            )
            for row in self._read(
                "SELECT name, kind, settings, enabled, mps, handed, heartbeat FROM connectors "
                "ORDER BY name"
            )
        ]

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        with self._tx() as db:
            if not db.execute(
                "UPDATE connectors SET enabled = ? WHERE name = ?", (int(enabled), name)
            ).rowcount:
                raise NotFoundError(f"no connector {name!r}")

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        with self._tx() as db:
            row = db.execute(
                "SELECT tokens, tokens_at, mps FROM connectors WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return 0
            granted, left = routing.grant(row[0], _opt_dt(row[1]), now, row[2], want)
            db.execute(
                "UPDATE connectors SET tokens = ?, tokens_at = ? WHERE name = ?",
                (left, _us(now), name),
            )
            return granted

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE connectors SET handed = handed + ?, heartbeat = ? WHERE name = ?",
                (count, _us(now), name),
            )

    async def routes(self) -> list[Route]:
        return [
            Route(prefix=row[0], channel=row[1], connectors=routing.parse_connectors(row[2]))
            for row in self._read(
                "SELECT prefix, channel, connectors FROM routes ORDER BY prefix, channel"
            )
        ]

    async def save_route(self, route: Route) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO routes VALUES (?, ?, ?) ON CONFLICT (prefix, channel) "
                "DO UPDATE SET connectors = excluded.connectors",
                (route.prefix, route.channel, ",".join(route.connectors)),
            )

    async def remove_route(self, prefix: str, channel: str) -> bool:
        with self._tx() as db:
            return bool(
                db.execute(
                    "DELETE FROM routes WHERE prefix = ? AND channel = ?", (prefix, channel)
                ).rowcount
            )

    async def expire(self, now: datetime, limit: int) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = -1, error = 600, modified = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id IN (SELECT id FROM messages WHERE status IN (0, 1, 3) "
                "AND expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (_us(now), _us(now), limit),
            ).rowcount

    # callbacks ---------------------------------------------------------------------------------
    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        with self._tx() as db:
            rows = db.execute(
                "UPDATE callbacks SET lease_owner = ?, lease_until = ? WHERE id IN ("
                "SELECT c.id FROM callbacks c WHERE c.done_at IS NULL AND c.due_at <= ? "
                "AND (c.lease_until IS NULL OR c.lease_until < ?) AND NOT EXISTS ("
                "SELECT 1 FROM callbacks p WHERE p.kind = c.kind AND p.ref = c.ref "
                "AND p.id < c.id AND p.done_at IS NULL) ORDER BY c.due_at, c.id LIMIT ?) "
                f"RETURNING {_CALLBACK_COLUMNS}",
                (owner, _us(lease_until), _us(now), _us(now), limit),
            ).fetchall()
        return sorted((_callback(row) for row in rows), key=lambda job: job.id)

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        stamp = _us(now)
        with self._tx() as db:
            return db.executemany(
                "UPDATE callbacks SET attempts = attempts + 1, last_error = ?, "
                "done_at = CASE WHEN ? IS NULL THEN ? ELSE NULL END, failed = ?, "
                "due_at = COALESCE(?, due_at), lease_owner = NULL, lease_until = NULL "
                "WHERE id = ? AND lease_owner = ? AND done_at IS NULL",
                [
                    (
                        r.error,
                        None if r.retry_at is None else _us(r.retry_at),
                        stamp,
                        int(not r.acknowledged and r.retry_at is None),
                        None if r.retry_at is None else _us(r.retry_at),
                        r.job_id,
                        owner,
                    )
                    for r in results
                ],
            ).rowcount

    async def messages_by_ids(self, ids: Sequence[int]) -> list[Message]:
        found: list[Message] = []
        for chunk in _id_chunks(ids):
            marks = ",".join("?" * len(chunk))
            found.extend(
                _message(row)
                for row in self._read(
                    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", chunk
                )
            )
        return found

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[Inbound]:
        found: list[Inbound] = []
        for chunk in _id_chunks(ids):
            marks = ",".join("?" * len(chunk))
            found.extend(
                _inbound(row)
                for row in self._read(
                    f"SELECT {_INBOUND_COLUMNS} FROM inbound WHERE id IN ({marks})", chunk
                )
            )
        return found

    async def callback_backlog(self, now: datetime) -> tuple[int, int]:
        row = self._read(
            "SELECT COUNT(*), COALESCE(SUM(due_at <= ?), 0) FROM callbacks WHERE done_at IS NULL",
            (_us(now),),
        )[0]
        return int(row[0]), int(row[1])

    async def queue_stats(self, now: datetime) -> QueueStats:
        stamp = _us(now)
        counts = {
            status: int(
                self._read("SELECT COUNT(*) FROM messages WHERE status = ?", (status,))[0][0]
            )
            for status in (0, 1, 3)
        }
        oldest = self._read(
            "SELECT MIN(due_at) FROM messages WHERE status = 0 AND due_at <= ?", (stamp,)
        )[0][0]
        pending, due = await self.callback_backlog(now)
        return QueueStats(
            accepted=counts[0],
            handed_over=counts[1],
            scheduled=counts[3],
            oldest_due_seconds=0.0 if oldest is None else (stamp - oldest) / 1e6,
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
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO inbound (account_id, phone, num, text, created, server_id) "
                "VALUES (?,?,?,?,?,?)",
                (account_id, phone, num, text, _us(now), server_id),
            )
            return int(cursor.lastrowid or 0)

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[Inbound]:
        columns = "id, account_id, phone, num, text, created, server_id"
        with self._tx() as db:
            if only_new:
                rows = db.execute(
                    f"UPDATE inbound SET fetched = 1 WHERE account_id = ? AND fetched = 0 "
                    f"RETURNING {columns}",
                    (account_id,),
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {columns} FROM inbound WHERE account_id = ? AND created > ?",
                    (account_id, _us(since) if since else -1),
                ).fetchall()
        items = [
            Inbound(
                id=r[0],
                account_id=r[1],
                phone=r[2],
                num=r[3],
                text=r[4],
                created=_dt(r[5]),
                server_id=r[6],
            )
            for r in rows
        ]
        return sorted(items, key=lambda item: item.id, reverse=True)
