"""PostgresStore: status and inbound callback jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import sql

from pilotgate.domain import codes
from pilotgate.domain.messages import Message

from ..base import (
    CallbackJob,
    CallbackResult,
    InboundSms,
    QueueStats,
)
from .core import (
    _CALLBACK_COLUMNS,
    _INBOUND_COLUMNS,
    _MAX_ID,
    _SELECT_MESSAGE,
    PostgresCore,
    _callback,
    _inbound,
    _message,
)


class PostgresCallbacks(PostgresCore):
    # callbacks ---------------------------------------------------------------------------------
    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        rows = await self._queue_rows(
            sql.SQL(
                "UPDATE callbacks SET lease_owner = %s, lease_until = %s WHERE id IN ("
                "SELECT c.id FROM callbacks c WHERE c.done_at IS NULL AND c.due_at <= %s "
                "AND (c.lease_until IS NULL OR c.lease_until < %s) AND NOT EXISTS ("
                "SELECT 1 FROM callbacks p WHERE p.kind = c.kind AND p.ref = c.ref "
                "AND p.id < c.id AND p.done_at IS NULL) ORDER BY c.id LIMIT %s "
                "FOR UPDATE SKIP LOCKED) RETURNING {}"
            ).format(_CALLBACK_COLUMNS),
            (owner, lease_until, now, now, limit),
            durable=False,
        )
        return sorted((_callback(row) for row in rows), key=lambda job: job.id)

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        if not results:
            return 0
        async with self._tx() as conn, conn.cursor() as cur:
            # Safe to lose in a crash of the database server: the job is sent again.
            await cur.execute("SET LOCAL synchronous_commit = off")
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

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[InboundSms]:
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
            "(SELECT MIN(due_at) FROM messages WHERE status = 0 AND due_at <= %s), "
            "(SELECT COUNT(*) FROM messages WHERE status = 0 AND handing AND lease_until < %s), "
            "(SELECT COUNT(*) FROM messages WHERE status = -1 AND error = %s)",
            (now, now, codes.HANDOVER_UNKNOWN),
        )
        accepted, handed_over, scheduled, oldest, in_doubt, unknown = rows[0]
        pending, due = await self.callback_backlog(now)
        return QueueStats(
            accepted=int(accepted),
            handed_over=int(handed_over),
            scheduled=int(scheduled),
            oldest_due_seconds=0.0 if oldest is None else (now - oldest).total_seconds(),
            callbacks_pending=pending,
            callbacks_due=due,
            in_doubt=int(in_doubt),
            handover_unknown=int(unknown),
        )
