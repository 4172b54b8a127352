"""SQLite store (the default): the driver's one connection (storage/sqlite/driver.py, which
says why its calls are synchronous), WAL journal, used from the event loop thread.
`synchronous=NORMAL` in WAL mode makes every commit survive a crash of the process (kill -9);
set `sqlite_synchronous = "FULL"` to also survive a power cut.

What differs in SQLite (the rest is storage/sql/): the runner of `submit`'s group commit
(storage/sql/submitting.py), synchronous on the raw connection with ids after MAX(id); the
dashboard's per-day statistics, counted in place by triggers (migration 0011): SQLite has one
writer at a time, so the counters never contend; the ported numbers' load and retention
without partitions (numbering.py, retention.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from ..base import Submitted
from ..dashboard import DayStat
from ..roles import Store
from ..sql import submitting
from ..sql.dashboard import EPOCH_DAY
from ..sql.messages import DRAFT_COLUMNS, Pending
from ..sql.money import LEDGER
from .driver import SqliteDriver, micros, sqlite_query, stored_time
from .numbering import SqliteNumbering
from .retention import SqliteRetention

#: The first server_id of a new database (API-1 answers read better with five digits).
FIRST_SERVER_ID = 10000
_INSERT = f"INSERT INTO messages ({DRAFT_COLUMNS}) VALUES ({','.join('?' * 28)})"
_COUNT_DAYS = (
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day, status, operator) "
    "DO UPDATE SET count = count + excluded.count, spend = spend + excluded.spend"
)
#: Times as integer microseconds, converted once per submit: the driver's own conversion
#: would look at every argument of every row. One debit per account per batch, as in
#: PostgreSQL: no round trip to save here, but a window of 50 submit_sm from one SMPP bind
#: is one UPDATE instead of 50 (each a statement prepared, stepped and read back in Python).
_SQLITE = submitting.SubmitDialect(stamp=micros, time=stored_time, lock=None)


class SqliteStore(SqliteNumbering, SqliteRetention, Store):
    """The whole `Store` for this database: its own parts, then those written once."""

    _sql: SqliteDriver

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        self._sql = SqliteDriver(path, synchronous=synchronous)
        self._pending: list[Pending] = []

    # messages ----------------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        # Synchronous: the batch is everything that arrived while the event loop was busy,
        # for two turns of the loop. A request reaches its submit after awaiting gathered
        # reads (key, stop list) whose answers wake their requests on the next turn: written
        # on the next turn, a batch took only the submits of this one (~12 under 50
        # connections); one turn later it also takes those woken in between (~24). A commit
        # costs ~170 µs of CPU whatever its size (BEGIN IMMEDIATE, MAX(id), the debit, the
        # WAL pages of COMMIT), so the flush's CPU per submit fell from 65-73 to 50-55 µs
        # (docs/performance.md, "Fourth pass"); the wait is one turn of a busy loop.
        if len(self._pending) == 1:
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, self._flush_submits)

    def _flush_submits(self) -> None:
        batch, self._pending = self._pending, []
        results: Sequence[Submitted | BaseException] = []
        try:
            with self._sql.sync_tx() as db:
                steps = submitting.committing(batch, _SQLITE)
                try:
                    step = next(steps)
                    while True:
                        if isinstance(step, submitting.Ids):
                            last = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
                            first = max(FIRST_SERVER_ID, (last or 0) + 1)
                            found = [(i,) for i in range(first, first + step.count)]
                        else:
                            found = db.execute(sqlite_query(step[0]), step[1]).fetchall()
                        step = steps.send(found)
                except StopIteration as done:
                    written: submitting.Written = done.value
                db.executemany(_INSERT, written.messages)
                db.executemany(sqlite_query(LEDGER), written.ledger)
                # The dashboard's per-day statistics (0011_dashboard), a row per group.
                db.executemany(_COUNT_DAYS, written.days)
            results = written.outcomes
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
            results = self._failed(exc, batch)
        self._answer(batch, results)

    # per-day statistics ------------------------------------------------------------------------
    async def fold_statistics(self, limit: int) -> int:
        return 0  # the triggers count in place: SQLite has one writer at a time

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        found = await self._sql.rows(
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = %s AND day BETWEEN %s AND %s AND count <> 0 ORDER BY day",
            (account_id, (since - EPOCH_DAY).days, (until - EPOCH_DAY).days),
        )
        return self._day_stats(found)


__all__ = ["SqliteStore"]
