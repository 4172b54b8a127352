"""The store's status and inbound callback jobs, and the queue's counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import codes
from pilotgate.domain.messages import Message

from ..base import CallbackJob, CallbackResult, InboundSms, QueueStats
from . import rows
from .core import SqlCore

#: The partial index of each queue state (migration 0001).
_STATUS_INDEXES = (
    (0, "messages_queued"),
    (1, "messages_outcome"),
    (3, "messages_scheduled"),
    (4, "messages_held"),
)


class CallbackStore(SqlCore):
    """Callback jobs (the database writes them with the change they report) and what they
    report."""

    # callbacks ---------------------------------------------------------------------------------
    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        """Lease due callback jobs. A job waits while an earlier job of the same message (or
        inbound SMS) is still pending, so one message's callbacks go out in status order."""
        # A job waits while an earlier one of the same message or inbound SMS is unfinished,
        # so a receiver hears a message's statuses in order.
        sql = self._sql
        async with sql.queue_tx(durable=False) as tx:
            found = await tx.rows(
                "UPDATE callbacks SET lease_owner = %s, lease_until = %s WHERE id IN ("
                "SELECT c.id FROM callbacks c WHERE c.done_at IS NULL AND c.due_at <= %s "
                "AND (c.lease_until IS NULL OR c.lease_until < %s) AND NOT EXISTS ("
                "SELECT 1 FROM callbacks p WHERE p.kind = c.kind AND p.ref = c.ref "
                f"AND p.id < c.id AND p.done_at IS NULL) ORDER BY c.id LIMIT %s{sql.skip_locked}) "
                f"RETURNING {rows.CALLBACK_COLUMNS}",
                (owner, lease_until, now, now, limit),
            )
        return sorted((rows.callback(row, sql.time) for row in found), key=lambda job: job.id)

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        """Record delivery attempts of jobs `owner` leases; returns how many were recorded."""
        if not results:
            return 0
        # Nearly every result is a plain acknowledgement: those are finished by one statement
        # (their ids as one parameter); one UPDATE each cost the database a statement per
        # callback, two per message end to end. Failures and retries keep one each.
        sql = self._sql
        plain = [r.job_id for r in results if r.acknowledged and not r.error and not r.retry_at]
        other = [r for r in results if not (r.acknowledged and not r.error and not r.retry_at)]
        # Safe to lose in a crash of the database server: the job is sent again.
        async with sql.queue_tx(durable=False, planned=False) as tx:
            finished = 0
            if plain:
                finished += await tx.run(
                    "UPDATE callbacks SET attempts = attempts + 1, last_error = %s, "
                    "done_at = %s, failed = %s, lease_owner = NULL, lease_until = NULL "
                    f"WHERE id {sql.int_in} AND lease_owner = %s AND done_at IS NULL",
                    ("", now, False, sql.ints(plain), owner),
                )
            if other:
                finished += await tx.many(
                    "UPDATE callbacks SET attempts = attempts + 1, last_error = %s, "
                    "done_at = CASE WHEN %s THEN %s ELSE NULL END, failed = %s, "
                    "due_at = COALESCE(%s, due_at), lease_owner = NULL, lease_until = NULL "
                    "WHERE id = %s AND lease_owner = %s AND done_at IS NULL",
                    [
                        (
                            r.error,
                            r.retry_at is None,
                            now,
                            not r.acknowledged and r.retry_at is None,
                            r.retry_at,
                            r.job_id,
                            owner,
                        )
                        for r in other
                    ],
                )
            return finished

    async def messages_by_ids(self, ids: Sequence[int]) -> list[Message]:
        """Messages by server_id, whatever their account (for the pipeline only)."""
        return await self._by_ids(rows.message, f"{rows.MESSAGE_COLUMNS} FROM messages WHERE", ids)

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[InboundSms]:
        """Inbound SMS by id, whatever their account (for the pipeline only)."""
        return await self._by_ids(rows.inbound, f"{rows.INBOUND_COLUMNS} FROM inbound WHERE", ids)

    async def callback_backlog(self, now: datetime) -> tuple[int, int]:
        """(pending jobs, pending jobs already due)."""
        row = await self._sql.one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE due_at <= %s) FROM callbacks "
            "WHERE done_at IS NULL",
            (now,),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def queue_stats(self, now: datetime) -> QueueStats:
        """Queue depth by status, the oldest due message's age and the callback backlog
        (cheap: every count runs on a partial index)."""
        # Each count walks the partial index of its status: without statistics (the gateway
        # never runs ANALYZE) SQLite scanned all of messages_account_status instead, three
        # times, 400 ms for the console's queue page at a million messages.
        sql = self._sql
        counts = "".join(
            f"(SELECT COUNT(*) FROM messages{sql.indexed_by(index)} WHERE status = {status}), "
            for status, index in _STATUS_INDEXES
        )
        # The counts take no parameter (the oldest due_at is compared with `now` here): a
        # prepared statement without parameters keeps one plan, where PostgreSQL plans one
        # with parameters afresh each time, every subquery over each of its ~30 partitions
        # (74-131 ms of planning at 10⁷ messages on a loaded machine, then 0.05 ms;
        # docs/performance.md). Only the in-doubt count needs the clock: one subquery, 4-7 ms.
        row = await sql.one(
            f"SELECT {counts}"
            "(SELECT MIN(due_at) FROM messages WHERE status = 0), "
            "(SELECT COUNT(*) FROM messages WHERE status = -1 "
            f"AND error = {int(codes.HANDOVER_UNKNOWN)})"
        )
        doubt = await sql.one(
            f"SELECT COUNT(*) FROM messages WHERE status = 0 AND handing = {sql.true} "
            "AND lease_until < %s",
            (now,),
        )
        assert row is not None and doubt is not None
        accepted, handed_over, scheduled, held, first_due, unknown = row
        oldest = None if first_due is None else sql.time(first_due)
        # Nothing is due yet when even the first queued message is due later.
        waited = 0.0 if oldest is None or oldest > now else (now - oldest).total_seconds()
        pending, due = await self.callback_backlog(now)
        return QueueStats(
            accepted=int(accepted),
            handed_over=int(handed_over),
            scheduled=int(scheduled),
            oldest_due_seconds=waited,
            callbacks_pending=pending,
            callbacks_due=due,
            in_doubt=int(doubt[0]),
            handover_unknown=int(unknown),
            held=int(held),
        )
