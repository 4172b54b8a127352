"""PostgresStore: what differs in PostgreSQL for messages (the rest is
storage/sql/messages.py): the runner of `submit`'s group commit (storage/sql/submitting.py)
in a flusher task, ids from a sequence, the bulk rows in one pipeline (large batches of
messages streamed with COPY first), and id lists as one `= ANY` array."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pilotgate.errors import StorageError

from ..base import Submitted
from ..sql import submitting
from ..sql.messages import DRAFT_COLUMNS, MessageStore, Pending
from .core import PostgresCore

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


def _same(when: datetime) -> datetime:
    return when


#: psycopg writes and reads datetimes itself. The account's row is locked before a guarded
#: submit's claim and caps; one debit per account per batch (each statement a round trip).
_POSTGRES = submitting.SubmitDialect(
    stamp=_same,
    time=_same,
    lock="SELECT 1 FROM accounts WHERE id = %s FOR UPDATE",
    grouped=True,
)


class PostgresMessages(MessageStore, PostgresCore):
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
        async with self._tx() as conn:
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
            await cur.executemany(submitting.LEDGER, written.ledger)
        if written.days:  # the dashboard's per-day statistics (0011_dashboard)
            await cur.executemany(_DAY_DELTAS, written.days)
