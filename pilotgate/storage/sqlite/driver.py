"""The SQLite driver: one connection, used from the event loop thread.

Why synchronous calls inside `async def`: every statement is local and short (tens of
microseconds), so a thread hop would cost more than the work, and because these coroutines
never suspend, a transaction's statements cannot interleave with another task's on the shared
connection. Writers serialise on SQLite's lock; `BEGIN IMMEDIATE` takes it at the start so a
transaction never fails half-way on upgrade.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pilotgate.errors import ConflictError, StorageError

from ..sql.driver import Args, Dialect, Row, Statements

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(when: datetime) -> int:
    """How SQLite stores a time: integer microseconds since the Unix epoch."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def stored_time(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


_QUERIES: dict[str, str] = {}


def sqlite_query(query: str) -> str:
    """psycopg's placeholders in SQLite's spelling, rewritten once per statement text."""
    found = _QUERIES.get(query)
    if found is None:
        found = _QUERIES[query] = query.replace("%s", "?").replace("%%", "%")
    return found


def _bind(args: Args) -> Args:
    for arg in args:
        if isinstance(arg, datetime):
            return [micros(a) if isinstance(a, datetime) else a for a in args]
    return args


def _statements(script: str) -> Iterator[str]:
    """The statements of a script, one by one. executescript() would commit on its own;
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


@contextlib.contextmanager
def _driver_errors() -> Iterator[None]:
    """The one place sqlite3's exceptions become pilotgate's."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConflictError(str(exc)) from exc
    except sqlite3.Error as exc:
        raise StorageError(str(exc)) from exc


class SqliteDriver:
    """The connection, its settings and its write transactions; a statement run alone is its
    own transaction (autocommit)."""

    bytewise = "COLLATE BINARY"
    dialect: Dialect = "sqlite"
    upgrade_lock = ""  # BEGIN IMMEDIATE takes the write lock
    migration_lock_wait = ""  # and holds it: nothing else waits on a table lock
    lock_tables = tables_named = ""
    find_text = "instr"
    text_in = "IN (SELECT value FROM json_each(%s))"

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {path}: {exc}") from exc
        self.connection = connection

    async def rows(self, query: str, args: Args = ()) -> list[Row]:
        with _driver_errors():
            return self.connection.execute(sqlite_query(query), _bind(args)).fetchall()

    async def one(self, query: str, args: Args = ()) -> Row | None:
        with _driver_errors():
            row: Row | None = self.connection.execute(sqlite_query(query), _bind(args)).fetchone()
            return row

    async def run(self, query: str, args: Args = ()) -> int:
        with _driver_errors():
            return self.connection.execute(sqlite_query(query), _bind(args)).rowcount

    async def many(self, query: str, batch: Iterable[Args]) -> int:
        with _driver_errors():
            cursor = self.connection.executemany(
                sqlite_query(query), (_bind(args) for args in batch)
            )
            return max(cursor.rowcount, 0)

    async def script(self, text: str) -> None:
        with _driver_errors():
            for statement in _statements(text):
                self.connection.execute(statement)

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[Statements]:
        with self.sync_tx():
            yield self

    @contextlib.contextmanager
    def sync_tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction for code that uses the connection directly (the batched
        submit)."""
        db = self.connection
        with _driver_errors():
            db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            with _driver_errors():
                db.execute("COMMIT")
        except StorageError:
            db.execute("ROLLBACK")
            raise

    def time(self, stored: Any) -> datetime:
        return stored_time(stored)

    def texts(self, values: Sequence[str]) -> Any:
        return json.dumps(list(values))

    async def close(self) -> None:
        self.connection.close()

    # what the outbox's statements spell in SQLite (see Driver) --------------------------------
    true = "1"
    false = "0"
    skip_locked = ""
    for_update = ""

    def queue_tx(
        self, *, durable: bool = True, planned: bool = True
    ) -> contextlib.AbstractAsyncContextManager[Statements]:
        # synchronous=NORMAL already commits without an fsync; the planner needs no help.
        return self.tx()

    def indexed_by(self, index: str) -> str:
        return f" INDEXED BY {index}"

    # what the hot path of hand-overs and receipts spells in SQLite (see Driver) ---------------
    int_in = "IN (SELECT value FROM json_each(%s))"
    lock_named = ""

    def ints(self, values: Sequence[int]) -> Any:
        return json.dumps(list(values))

    def any_listed(self, csv: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM json_each(%s) AS j WHERE instr(',' || {csv} || ',', "
            "',' || j.value || ',') > 0)"
        )

    def table(self, alias: str, columns: Sequence[tuple[str, str]]) -> str:
        # Each row a JSON array: one parameter, however many rows. LIMIT -1 (no limit) keeps
        # the subquery from being flattened: materialised, it is the outer loop of a join,
        # each row a lookup by key; flattened, the planner scanned every pending part of
        # the connector once per row instead (twice the time for a batch of 100 receipts).
        picked = ", ".join(
            f"json_extract(value, '$[{i}]') AS {c}" for i, (c, _) in enumerate(columns)
        )
        return f"(SELECT {picked} FROM json_each(%s) LIMIT -1) AS {alias}"

    def table_args(self, rows: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
        return (json.dumps(rows),)

    def stamp(self, when: datetime) -> Any:
        return micros(when)
