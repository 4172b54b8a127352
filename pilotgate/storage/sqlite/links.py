"""SqliteStore: part receipts, row by row in one write transaction (the rest of links is in
storage/sql/links.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from pilotgate.domain import checks

from ..base import Handover, PartReceipt
from ..sql.driver import Statements
from ..sql.links import SqlLinks, part_rows
from .core import SqliteCore
from .driver import SqliteDriver, micros
from .hybrid import fall_back

# A message's outcome from its parts: not delivered as soon as one part finally fails (the
# first failing part's error), delivered once every part is. Only a message still handed
# over (1) moves: a late receipt never changes a final status.
_SETTLE = (
    "UPDATE messages SET modified = ?, "
    "status = CASE WHEN p.failed THEN -1 ELSE 2 END, error = CASE WHEN p.failed THEN p.err "
    "ELSE 0 END FROM (SELECT server_id, max(status = -1) AS failed, min(status = 2) AS done, "
    "min(CASE WHEN status = -1 THEN error END) AS err, count(status) = count(*) AS complete "
    "FROM message_parts WHERE server_id = ? GROUP BY server_id) AS p "
    "WHERE messages.id = p.server_id AND messages.status = 1 "
    "AND (p.failed OR (p.done AND p.complete))"
)


class SqliteLinks(SqlLinks, SqliteCore):
    """Only what differs from the shared links. SqliteCore stays a base while the outbox
    (SqliteQueue, a subclass) still uses its helpers."""

    _sql: SqliteDriver

    async def _to_sms(self, tx: Statements, server_id: int, now: datetime, owner: str) -> bool:
        # A transaction of this driver is its one connection, inside BEGIN IMMEDIATE.
        return bool(
            fall_back(self._sql.connection, [server_id], micros(now), status=0, owner=owner)
        )

    def _track_parts(
        self, db: sqlite3.Connection, handovers: Iterable[Handover], stamp: int
    ) -> None:
        """Inside record_handover's transaction: remember every part's id of the messages
        whose outcome a receipt will tell, and apply receipts that came before."""
        rows = part_rows(handovers)
        if not rows:
            return
        db.executemany(
            "INSERT INTO message_parts (connector, remote_id, server_id, part) VALUES (?,?,?,?) "
            "ON CONFLICT (connector, remote_id) DO UPDATE SET server_id = excluded.server_id, "
            "part = excluded.part, status = NULL, error = 0",
            rows,
        )
        early = []
        for connector, remote_id, _, _ in rows:
            found = db.execute(
                "DELETE FROM early_receipts WHERE connector = ? AND remote_id = ? "
                "RETURNING status, error",
                (connector, remote_id),
            ).fetchone()
            if found is not None:
                early.append((connector, remote_id, found[0], found[1]))
        for connector, remote_id, status, error in early:
            self._apply_part(db, connector, remote_id, status, error, stamp)

    def _apply_part(
        self,
        db: sqlite3.Connection,
        connector: str,
        remote_id: str,
        status: int,
        error: int,
        stamp: int,
    ) -> bool | None:
        """Record one part's outcome and settle its message. True: applied; False: the
        part already had one (a duplicate); None: no such part yet."""
        row = db.execute(
            "UPDATE message_parts SET status = ?, error = ? WHERE connector = ? "
            "AND remote_id = ? AND status IS NULL RETURNING server_id",
            (status, error, connector, remote_id),
        ).fetchone()
        if row is None:
            known = db.execute(
                "SELECT 1 FROM message_parts WHERE connector = ? AND remote_id = ?",
                (connector, remote_id),
            ).fetchone()
            return False if known else None
        if status == -1 and fall_back(db, [row[0]], stamp, status=1):
            return True  # its Viber attempt failed: queued again as an SMS
        db.execute(_SETTLE, (stamp, row[0]))
        return True

    async def record_receipts(
        self, connector: str, receipts: Sequence[PartReceipt], now: datetime
    ) -> int:
        stamp = micros(now)
        matched = 0
        with self._sql.sync_tx() as db:
            for r in receipts:
                if r.details:  # before it settles, so the final status is seen with them
                    db.execute(
                        "UPDATE messages SET details = ? WHERE id = (SELECT server_id FROM "
                        "message_parts WHERE connector = ? AND remote_id = ? AND status IS NULL) "
                        "AND status = 1",
                        (checks.encode(r.details), connector, r.remote_id),
                    )
                found = self._apply_part(db, connector, r.remote_id, int(r.status), r.error, stamp)
                if found is None:
                    db.execute(
                        "INSERT INTO early_receipts VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                        (connector, r.remote_id, int(r.status), r.error, stamp),
                    )
                else:
                    matched += 1
        return matched
