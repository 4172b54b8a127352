"""PostgresStore: what the outbox does differently in PostgreSQL: the route filter of a claim
(an array overlap), and the hand-over and outcome transactions, which take the receipts'
advisory locks and share the hybrid fallback's connection-level helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import checks

from ..base import Handover
from ..sql.queue import SqlQueue
from .hybrid import fall_back
from .links import PostgresLinks, lock_receipts


class PostgresQueue(SqlQueue, PostgresLinks):
    def _routed_to(self, only: Sequence[str]) -> tuple[str, object]:
        return (
            "AND string_to_array(CASE WHEN route = '' THEN 'emulator' ELSE route END, ',') "
            "&& %s::text[] ",
            list(only),
        )

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        if not handovers:
            return 0
        async with self._tx() as conn, conn.cursor() as cursor:
            # First, before any row lock: receipts may be waiting for these part ids.
            await lock_receipts(conn, (h.connector for h in handovers if h.outcome_status is None))
            await cursor.executemany(
                "UPDATE messages SET status = 1, modified = %s, connector = %s, "
                "remote_id = %s, outcome_status = %s, outcome_error = %s, outcome_at = %s, "
                "details = %s, lease_owner = NULL, lease_until = NULL "
                "WHERE id = %s AND status = 0 AND lease_owner = %s",
                [
                    (
                        now,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        h.outcome_at,
                        checks.encode(h.details),
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            # executemany adds up the rows every statement changed.
            handed = cursor.rowcount
            await self._track_parts(conn, handovers, now)
            return handed

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        # VIBERSMS messages whose Viber outcome is a failure become SMS instead; that moves
        # money, so it waits for the disk (the outcomes below need not).
        async with self._tx() as conn:
            cursor = await conn.execute(
                "SELECT id FROM messages WHERE status = 1 AND fallback <> '' AND outcome_at <= %s "
                "AND outcome_status < 0 ORDER BY outcome_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (now, limit),
            )
            hybrid = [row[0] for row in await cursor.fetchall()]
            fell = len(await fall_back(conn, hybrid, now, status=1))
        return fell + await self._queue_count(
            (
                "UPDATE messages SET status = outcome_status, error = outcome_error, "
                "modified = %s WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                "outcome_at <= %s ORDER BY outcome_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            ),
            (now, now, limit),
            durable=False,
        )
