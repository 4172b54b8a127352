"""The seam between the one SQL store and a database: run a statement, read its rows, open a
transaction. Each dialect ships one driver (storage/sqlite/driver.py,
storage/postgres/driver.py); everything above it is written once.

Statements use psycopg's placeholder `%s` (and `%%` for a literal percent sign); the SQLite
driver rewrites them to `?` once per statement text. A datetime argument is stored as the
dialect stores times (integer microseconds in SQLite, timestamptz in PostgreSQL) and read back
through `Driver.time`. Driver errors leave a driver only as `StorageError` (a unique or
key violation as its subclass `ConflictError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

Row = Sequence[Any]
Args = Sequence[Any]
Dialect = Literal["sqlite", "postgres"]


class OneStatement(Protocol):
    """What runs a statement: the driver itself (each statement its own transaction) or an
    open transaction."""

    async def rows(self, query: str, args: Args = ()) -> list[Row]: ...

    async def one(self, query: str, args: Args = ()) -> Row | None:
        """The first row, or None."""

    async def run(self, query: str, args: Args = ()) -> int:
        """Execute; how many rows it changed."""


class Statements(OneStatement, Protocol):
    """An open transaction: batches and scripts run only inside one."""

    async def many(self, query: str, batch: Iterable[Args]) -> int:
        """Execute once per argument tuple; how many rows changed in all."""

    async def script(self, text: str) -> None:
        """Execute a script of several statements without parameters (a migration)."""


class Driver(OneStatement, Protocol):
    dialect: Dialect
    #: The collation that orders text by bytes whatever the database's locale.
    bytewise: str
    #: A statement that serialises `upgrade` across processes inside its transaction ('' when
    #: the transaction itself does).
    upgrade_lock: str
    #: A statement bounding how long a migration's statements wait for locks others hold, in
    #: its transaction ('' where no wait can queue other writers behind it).
    migration_lock_wait: str
    #: `LOCK TABLE {}` for the existing tables a migration touches, taken together first, and
    #: the query naming which of the names passed as `texts(values)` are existing tables
    #: (both '' where a transaction already holds the whole database).
    lock_tables: str
    tables_named: str
    #: The function `f(text, part)`: where `part` first starts in `text` (from 1), 0 if
    #: nowhere; case-sensitive, no wildcards (LIKE has both).
    find_text: str
    #: `column {text_in}` tests a column against a list of texts passed as one parameter,
    #: `texts(values)`: a send's 10,000 phones are one statement, not chunks of SQLite's
    #: parameter limit.
    text_in: str

    def tx(self) -> AbstractAsyncContextManager[Statements]:
        """One transaction, committed at the end of the block and rolled back on any
        exception. Its body awaits only the statements it is given: SQLite's driver never
        suspends, so no other task's statement can slip into the transaction."""

    def time(self, stored: Any) -> datetime:
        """A stored time as an aware UTC datetime."""

    def texts(self, values: Sequence[str]) -> Any:
        """`values` as the one parameter of `text_in`."""

    async def close(self) -> None: ...

    # what the outbox's statements spell per dialect --------------------------------------------
    #: A boolean literal in a condition that a partial index must still match: SQLite's indexes
    #: say `handing = 1` (and match only that spelling); PostgreSQL folds `handing = true` into
    #: `handing`, as its indexes say.
    true: str
    false: str
    #: Row locks for a poll's subquery: PostgreSQL skips rows another process holds, so
    #: processes share the queue without waiting on each other or taking a row twice. SQLite
    #: has one writer at a time: nothing to lock or skip, so both are empty there.
    skip_locked: str
    for_update: str

    def queue_tx(
        self, *, durable: bool = True, planned: bool = True
    ) -> AbstractAsyncContextManager[Statements]:
        """A transaction for the queue's bookkeeping. `planned`: its statement walks its
        partial index whatever the statistics say; `durable=False`: it may commit without
        waiting for the disk, for changes that are safe to redo. Only PostgreSQL needs
        either; SQLite's is a plain `tx()`."""

    def indexed_by(self, index: str) -> str:
        """A hint after a table name to read it through `index` (SQLite, which plans without
        statistics); empty where the planner needs none."""

    # what the hot path of hand-overs and receipts spells per dialect ---------------------------
    #: `column {int_in}` tests a column against a list of ids passed as one parameter,
    #: `ints(values)`, as `text_in` does for texts.
    int_in: str
    #: A statement that holds the lock named by its one parameter until the transaction ends:
    #: PostgreSQL's advisory lock, so that transactions taking the same name run one after
    #: the other. Empty in SQLite, whose write transactions already do.
    lock_named: str

    def ints(self, values: Sequence[int]) -> Any:
        """`values` as the one parameter of `int_in`."""

    def any_listed(self, csv: str) -> str:
        """A condition: the comma-separated texts of the expression `csv` and the texts
        passed as one parameter, `texts(values)`, share at least one."""

    def table(self, alias: str, columns: Sequence[tuple[str, str]]) -> str:
        """A FROM item: a batch of rows passed as parameters (`table_args(rows)`), named
        `alias`, with these (name, PostgreSQL type) columns. A batch of receipts is a few
        statements whatever its size, not one per receipt."""

    def table_args(self, rows: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
        """A non-empty batch of rows as the parameters of `table`."""

    def stamp(self, when: datetime) -> Any:
        """`when` as the dialect stores it, for the rows of a batch: the driver then has no
        datetime to convert in each row."""
