"""SqliteStore: what long-lived links report back (refusals, part receipts, inbound numbers)
and which process owns each link."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from pilotgate.domain import checks
from pilotgate.errors import ConflictError

from ..base import Handover, LinkLease, PartReceipt, Refusal
from .core import SqliteCore, _dt, _us
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


class SqliteLinks(SqliteCore):
    async def refuse(self, owner: str, refusals: Sequence[Refusal], now: datetime) -> int:
        stamp = _us(now)
        applied = 0
        with self._tx() as db:
            for r in refusals:
                if not r.final:
                    applied += db.execute(
                        "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = 0, "
                        "due_at = ? WHERE id = ? AND status = 0 AND lease_owner = ?",
                        (_us(r.retry_at), r.server_id, owner),
                    ).rowcount
                    continue
                if fall_back(db, [r.server_id], stamp, status=0, owner=owner):
                    applied += 1  # a VIBERSMS message refused by Viber: queued as an SMS
                    continue
                row = db.execute(
                    "UPDATE messages SET status = -2, error = ?, modified = ?, lease_owner = NULL, "
                    "lease_until = NULL, handing = 0 WHERE id = ? AND status = 0 "
                    "AND lease_owner = ? RETURNING account_id, price",
                    (r.error, stamp, r.server_id, owner),
                ).fetchone()
                if row is None:
                    continue
                applied += 1
                if row[1]:  # an error is never charged (contract §6): the price goes back
                    db.execute(
                        "UPDATE accounts SET balance = balance + ? WHERE id = ?", (row[1], row[0])
                    )
                    db.execute(
                        "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                        "VALUES (?,?,?,?,?,?)",
                        (row[0], row[1], "refund", r.server_id, f"error {r.error}", stamp),
                    )
        return applied

    def _track_parts(
        self, db: sqlite3.Connection, handovers: Iterable[Handover], stamp: int
    ) -> None:
        """Inside record_handover's transaction: remember every part's id of the messages
        whose outcome a receipt will tell, and apply receipts that came before."""
        rows = [
            (h.connector, remote_id, h.server_id, part)
            for h in handovers
            if h.outcome_status is None
            for part, remote_id in enumerate(h.remote_ids or (h.remote_id,), start=1)
        ]
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
        stamp = _us(now)
        matched = 0
        with self._tx() as db:
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

    async def pending_parts(self, connector: str, limit: int) -> list[str]:
        return [
            row[0]
            for row in self._read(
                "SELECT p.remote_id FROM message_parts p JOIN messages m ON m.id = p.server_id "
                "WHERE p.connector = ? AND p.status IS NULL AND m.status = 1 "
                "ORDER BY p.server_id, p.part LIMIT ?",
                (connector, limit),
            )
        ]

    async def purge_early_receipts(self, before: datetime) -> int:
        with self._tx() as db:
            return db.execute(
                "DELETE FROM early_receipts WHERE received < ?", (_us(before),)
            ).rowcount

    async def save_number(self, number: str, account_id: int, now: datetime) -> None:
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO numbers VALUES (?, ?, ?) ON CONFLICT (number) "
                    "DO UPDATE SET account_id = excluded.account_id",
                    (number, account_id, _us(now)),
                )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"no account {account_id}") from exc

    async def number_owner(self, number: str) -> int | None:
        rows = self._read("SELECT account_id FROM numbers WHERE number = ?", (number,))
        return int(rows[0][0]) if rows else None

    async def hold_link(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        with self._tx() as db:
            return (
                db.execute(
                    "INSERT INTO link_leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                    "SET owner = excluded.owner, until = excluded.until "
                    "WHERE link_leases.owner = excluded.owner OR link_leases.until < ?",
                    (name, owner, _us(until), _us(now)),
                ).rowcount
                > 0
            )

    async def release_link(self, name: str, owner: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM link_leases WHERE name = ? AND owner = ?", (name, owner))

    async def link_leases(self) -> list[LinkLease]:
        return [
            LinkLease(name=row[0], owner=row[1], until=_dt(row[2]))
            for row in self._read("SELECT name, owner, until FROM link_leases ORDER BY name")
        ]

    async def save_link_state(self, name: str, state: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE connectors SET state = ? WHERE name = ?", (state, name))
