"""SqliteStore: what the outbox does differently in SQLite: the route filter of a claim (a
JSON array, as SQLite has no array parameters), and the hand-over and outcome transactions,
which share the hybrid fallback's and the receipts' connection-level helpers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import checks

from ..base import Handover
from ..sql.queue import SqlQueue
from .driver import micros as _us
from .hybrid import fall_back
from .links import SqliteLinks


class SqliteQueue(SqlQueue, SqliteLinks):
    def _routed_to(self, only: Sequence[str]) -> tuple[str, object]:
        return (
            "AND EXISTS (SELECT 1 FROM json_each(%s) AS j WHERE instr(',' || CASE WHEN "
            "route = '' THEN 'emulator' ELSE route END || ',', ',' || j.value || ',') > 0) ",
            json.dumps(list(only)),
        )

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        stamp = _us(now)
        with self._tx() as db:
            cursor = db.executemany(
                "UPDATE messages SET status = 1, modified = ?, connector = ?, remote_id = ?, "
                "outcome_status = ?, outcome_error = ?, outcome_at = ?, details = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 0 "
                "AND lease_owner = ?",
                [
                    (
                        stamp,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        None if h.outcome_at is None else _us(h.outcome_at),
                        checks.encode(h.details),
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            handed = cursor.rowcount
            self._track_parts(db, handovers, stamp)
            return handed

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        with self._tx() as db:
            # VIBERSMS messages whose Viber outcome is a failure become SMS instead.
            hybrid = db.execute(
                "SELECT id FROM messages WHERE status = 1 AND fallback <> '' AND outcome_at <= ? "
                "AND outcome_status < 0 ORDER BY outcome_at LIMIT ?",
                (_us(now), limit),
            ).fetchall()
            fell = len(fall_back(db, [r[0] for r in hybrid], _us(now), status=1))
            return (
                fell
                + db.execute(
                    "UPDATE messages SET status = outcome_status, error = outcome_error, "
                    "modified = ? WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                    "outcome_at <= ? ORDER BY outcome_at LIMIT ?)",
                    (_us(now), _us(now), limit),
                ).rowcount
            )
