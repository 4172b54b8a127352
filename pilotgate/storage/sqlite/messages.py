"""SqliteStore: what differs in SQLite for messages (the rest is storage/sql/messages.py):
the runner of `submit`'s group commit (storage/sql/submitting.py), synchronous on the raw
connection with ids after MAX(id)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..base import Submitted
from ..sql import submitting
from ..sql.messages import DRAFT_COLUMNS, MessageStore
from .core import SqliteCore
from .driver import micros, sqlite_query, stored_time

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
_SQLITE = submitting.SubmitDialect(stamp=micros, time=stored_time, lock=None, grouped=True)


class SqliteMessages(MessageStore, SqliteCore):
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
                db.executemany(sqlite_query(submitting.LEDGER), written.ledger)
                # The dashboard's per-day statistics (0011_dashboard), a row per group.
                db.executemany(_COUNT_DAYS, written.days)
            results = written.outcomes
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
            results = self._failed(exc, batch)
        self._answer(batch, results)
