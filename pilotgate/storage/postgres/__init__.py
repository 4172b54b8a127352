"""PostgreSQL store: psycopg 3 with an async connection pool (storage/postgres/driver.py),
for several gateway processes. Outbox work (`claim`, `apply_due_outcomes`) locks rows with
`FOR UPDATE SKIP LOCKED`, so any number of pipeline processes can share the table without
waiting on each other or taking the same message twice.

What differs in PostgreSQL (the rest is storage/sql/): the runner of `submit`'s group commit
(storage/sql/submitting.py) in a flusher task, ids from a sequence, the bulk rows in one
pipeline (large batches of messages streamed with COPY first); the dashboard's per-day
statistics, where counters updated in place by concurrent transactions would serialise every
status change of an account on a few hot rows, so submit and the status trigger append deltas
(migration 0011), `fold_statistics` folds them in and a read adds the ones not folded yet;
the ported numbers' load by COPY and retention by partitions (numbering.py, partitions.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self

from pilotgate.errors import StorageError

from ..base import Submitted
from ..dashboard import DayStat
from ..roles import Store
from ..sql import submitting
from ..sql.dashboard import EPOCH_DAY
from ..sql.messages import DRAFT_COLUMNS, Pending
from ..sql.money import LEDGER
from .driver import PostgresDriver
from .numbering import PostgresNumbering
from .partitions import PostgresPartitions

#: Above this many rows `submit` streams messages with COPY; below, executemany (pipelined)
#: is as fast and skips the COPY set-up.
_COPY_THRESHOLD = 50

#: Binary COPY (a fraction of text COPY's client CPU) needs every column's exact type: these
#: follow DRAFT_COLUMNS as the migrations declare them. A mismatch fails loudly ("incorrect
#: binary data format"), never silently.
_COPY_TYPES = [
    "int8", "int8", "int8", "text", "text", "text", "text", "int4", "text", "int8",
    "int2", "int4", "timestamptz", "int4", "text", "text", "timestamptz", "timestamptz",
    "text", "text", "bool", "text", "text", "timestamptz", "timestamptz", "text", "text", "int2",
]  # fmt: skip

_INSERT = f"INSERT INTO messages ({DRAFT_COLUMNS}) VALUES ({', '.join(['%s'] * 28)})"
_COPY = f"COPY messages ({DRAFT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_IDS = "SELECT nextval('message_ids') FROM generate_series(1, %s)"
_DAY_DELTAS = (
    "INSERT INTO message_day_deltas (account_id, day, status, operator, count, spend) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
#: Folds pending statistics deltas into message_days: deltas taken with SKIP LOCKED (two
#: folds never take the same ones), counters upserted in key order (no deadlock).
_FOLD = (
    "WITH moved AS (DELETE FROM message_day_deltas WHERE id IN (SELECT id FROM "
    "message_day_deltas ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "RETURNING account_id, day, status, operator, count, spend) "
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "SELECT account_id, day, status, operator, sum(count), sum(spend) FROM moved "
    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 ON CONFLICT (account_id, day, status, operator) "
    "DO UPDATE SET count = message_days.count + excluded.count, "
    "spend = message_days.spend + excluded.spend"
)


def _same(when: datetime) -> datetime:
    return when


#: psycopg writes and reads datetimes itself. The account's row is locked before a guarded
#: submit's claim and caps; one debit per account per batch (each statement a round trip).
_POSTGRES = submitting.SubmitDialect(
    stamp=_same,
    time=_same,
    lock="SELECT 1 FROM accounts WHERE id = %s FOR UPDATE",
)


class PostgresStore(PostgresNumbering, PostgresPartitions, Store):
    """The whole `Store` for this database: its own parts, then those written once. The
    schema is the first one on the search_path."""

    _sql: PostgresDriver

    def __init__(self, driver: PostgresDriver) -> None:
        self._sql = driver
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, prepare: bool = True
    ) -> Self:
        """Connect a pool to `dsn`; raises StorageError if the server cannot be reached.
        `prepare=False` behind PgBouncer in transaction pooling mode (PostgresDriver.open)."""
        driver = await PostgresDriver.open(
            dsn, min_size=min_size, max_size=max_size, prepare=prepare
        )
        return cls(driver)

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher  # answered submits are committed; finish the last batch
        await self._sql.close()

    # messages ----------------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        # A flusher task: while it writes one batch (COPY, one fsync), the next gathers.
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_submits())

    async def _flush_submits(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            outcomes: Sequence[Submitted | BaseException]
            try:
                outcomes = await self._submit_batch(batch)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
                outcomes = self._failed(exc, batch)
            self._answer(batch, outcomes)

    async def _submit_batch(self, batch: list[Pending]) -> list[Submitted | StorageError]:
        steps = submitting.committing(batch, _POSTGRES)
        async with self._sql.tx() as tx:
            conn = tx.connection  # psycopg's own: the bulk rows go by COPY and a pipeline
            try:
                step = next(steps)
                while True:
                    sql, args = (_IDS, (step.count,)) if isinstance(step, submitting.Ids) else step
                    cursor = await conn.execute(sql, args)
                    step = steps.send(await cursor.fetchall() if cursor.description else [])
            except StopIteration as done:
                written: submitting.Written = done.value
            await _write(conn, written)
        return written.outcomes

    # per-day statistics ------------------------------------------------------------------------
    async def fold_statistics(self, limit: int) -> int:
        return await self._sql.run(_FOLD, (limit,))

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        first, last = (since - EPOCH_DAY).days, (until - EPOCH_DAY).days
        found = await self._sql.rows(
            "SELECT day, status, operator, sum(count), sum(spend) FROM ("
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = %s AND day BETWEEN %s AND %s UNION ALL "
            "SELECT day, status, operator, count, spend FROM message_day_deltas "
            "WHERE account_id = %s AND day BETWEEN %s AND %s) AS t "
            "GROUP BY day, status, operator HAVING sum(count) <> 0 ORDER BY day",
            (account_id, first, last, account_id, first, last),
        )
        return self._day_stats(found)


async def _write(conn: Any, written: submitting.Written) -> None:
    """The batch's bulk rows: messages by COPY above the threshold, then one pipeline for
    the rest, so the three inserts cost one round trip, not three (COPY cannot run in a
    pipeline)."""
    rows = written.messages
    async with conn.cursor() as cur:
        if len(rows) > _COPY_THRESHOLD:
            async with cur.copy(_COPY) as copy:
                copy.set_types(_COPY_TYPES)
                for message in rows:
                    await copy.write_row(message)
    async with conn.pipeline(), conn.cursor() as cur:
        if rows and len(rows) <= _COPY_THRESHOLD:
            await cur.executemany(_INSERT, rows)
        if written.ledger:
            await cur.executemany(LEDGER, written.ledger)
        if written.days:  # the dashboard's per-day statistics (0011_dashboard)
            await cur.executemany(_DAY_DELTAS, written.days)


__all__ = ["PostgresStore"]
