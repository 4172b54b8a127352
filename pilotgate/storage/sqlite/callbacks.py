"""SqliteStore: status and inbound callback jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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
    _MESSAGE_COLUMNS,
    SqliteCore,
    _callback,
    _id_chunks,
    _inbound,
    _message,
    _us,
)


class SqliteCallbacks(SqliteCore):
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
                "AND p.id < c.id AND p.done_at IS NULL) ORDER BY c.id LIMIT ?) "
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

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[InboundSms]:
        found: list[InboundSms] = []
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
        # Each count walks the partial index of its status: without statistics (the gateway
        # never runs ANALYZE) SQLite scanned all of messages_account_status instead, three
        # times, 400 ms for the console's queue page at a million messages.
        counts = {
            status: int(self._read(query)[0][0])
            for status, query in (
                (0, "SELECT COUNT(*) FROM messages INDEXED BY messages_queued WHERE status = 0"),
                (1, "SELECT COUNT(*) FROM messages INDEXED BY messages_outcome WHERE status = 1"),
                (3, "SELECT COUNT(*) FROM messages INDEXED BY messages_scheduled WHERE status = 3"),
            )
        }
        oldest = self._read(
            "SELECT MIN(due_at) FROM messages WHERE status = 0 AND due_at <= ?", (stamp,)
        )[0][0]
        in_doubt, unknown = self._read(
            "SELECT (SELECT COUNT(*) FROM messages WHERE status = 0 AND handing = 1 "
            "AND lease_until < ?), (SELECT COUNT(*) FROM messages WHERE status = -1 AND error = ?)",
            (stamp, codes.HANDOVER_UNKNOWN),
        )[0]
        pending, due = await self.callback_backlog(now)
        return QueueStats(
            accepted=counts[0],
            handed_over=counts[1],
            scheduled=counts[3],
            oldest_due_seconds=0.0 if oldest is None else (stamp - oldest) / 1e6,
            callbacks_pending=pending,
            callbacks_due=due,
            in_doubt=int(in_doubt),
            handover_unknown=int(unknown),
        )
