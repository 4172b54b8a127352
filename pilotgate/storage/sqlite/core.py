"""SQLite store (the default). One connection, WAL journal, used from the event loop thread.

Why synchronous calls inside `async def`: every statement here is local and short (tens of
microseconds), so a thread hop would cost more than the work. Writers serialise on SQLite's
lock; `BEGIN IMMEDIATE` takes it at the start so a transaction never fails half-way on
upgrade. `synchronous=NORMAL` in WAL mode makes every commit survive a crash of the process
(kill -9); set `sqlite_synchronous = "FULL"` to also survive a power cut.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pilotgate.domain import checks
from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.senders import SenderState
from pilotgate.errors import StorageError

from ..base import (
    CallbackJob,
    InboundSms,
    Sender,
    migration_scripts,
)
from ..sql.core import SqlCore
from ..sql.messages import Pending
from .driver import SqliteDriver

FIRST_SERVER_ID = 10000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: SQLite integers are 64-bit; a larger id names no message (and would raise OverflowError).
_MAX_ID = 2**63 - 1

#: What `submit` writes; reads add the columns the pipeline fills in later.
_INSERT_COLUMNS = (
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route, ping_route"
)
_MESSAGE_COLUMNS = _INSERT_COLUMNS + ", details, client_id"
_ACCOUNT_COLUMNS = (
    "id, email, password_hash, name, phone, tariff_id, default_sender, any_sender, allow_ip, "
    "state, referrer_id, balance, created, status_url, status_method, inbound_url, "
    "callback_secret, loop_window"
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


def _inbound(row: sqlite3.Row) -> InboundSms:
    return InboundSms(
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
        loop_window=row[17],
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
        ping_route=row[22],
        details=checks.decode(row[23]),
        client_id=row[24],
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


class SqliteCore(SqlCore):
    """The connection and transactions every part of the SQLite store shares."""

    _sql: SqliteDriver

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        self._sql = SqliteDriver(path, synchronous=synchronous)
        self._db = self._sql.connection
        self._pending: list[Pending] = []

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction; driver errors become StorageError in the driver."""
        return self._sql.sync_tx()

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
