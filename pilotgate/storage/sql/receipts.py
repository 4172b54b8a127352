"""What connectors report back about the messages handed to them: part receipts and
refusals (`OutboxStore` takes them with the rest of the queue, storage/sql/queue.py).

Part receipts are the receipts' hot path: a batch is applied set-wise, its rows passed as
one table (`Driver.table`), so a burst of deliver_sm costs a few statements, not one per
receipt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pilotgate.domain import checks
from pilotgate.domain.receipts import Receipt

from ..base import Handover, Refusal
from .core import SqlCore
from .driver import Statements
from .hybrid import fall_back
from .money import LEDGER

_PART = (("connector", "text"), ("remote_id", "text"), ("server_id", "bigint"), ("part", "int"))
#: A receipt's columns; named apart from message_parts' so that RETURNING needs no table name
#: (SQLite allows none there).
_RECEIPT = (("r", "text"), ("s", "int"), ("e", "int"))

# Settle messages from their parts: not delivered as soon as one part finally fails (the
# first failing part's error), delivered once every part is. Only messages still handed over
# (1) move, so a late or duplicated receipt never changes a final status.
_SETTLE = (
    "UPDATE messages SET modified = %s, "
    "status = CASE WHEN p.failed THEN -1 ELSE 2 END, "
    "error = CASE WHEN p.failed THEN p.err ELSE 0 END "
    "FROM (SELECT server_id, max(CASE WHEN status = -1 THEN 1 ELSE 0 END) = 1 AS failed, "
    "min(CASE WHEN status = 2 THEN 1 ELSE 0 END) = 1 AS done, "
    "min(CASE WHEN status = -1 THEN error END) AS err "
    "FROM message_parts WHERE server_id {among} GROUP BY server_id) AS p "
    "WHERE messages.id = p.server_id AND messages.status = 1 AND (p.failed OR p.done)"
)


def part_rows(handovers: Iterable[Handover]) -> list[tuple[str, str, int, int]]:
    """(connector, remote id, server id, part number) of every part of the messages whose
    outcome a receipt will tell (a hand-over with no outcome of its own)."""
    return [
        (h.connector, remote_id, h.server_id, part)
        for h in handovers
        if h.outcome_status is None
        for part, remote_id in enumerate(h.remote_ids or (h.remote_id,), start=1)
    ]


class SqlReceipts(SqlCore):
    # part receipts -----------------------------------------------------------------------------
    async def _lock_receipts(self, tx: Statements, connectors: Iterable[str]) -> None:
        """Serialise, per connector, recording hand-overs with part ids and recording receipts.
        Without it a receipt could miss its hand-over both ways under PostgreSQL's READ
        COMMITTED: the receipt finds no part yet (the hand-over is not committed) and is kept
        as early, while the hand-over looks for early receipts before that one is committed
        — and the message stayed handed over for good (seen: 1,179 of 20,000 with two worker
        processes). SQLite runs one write transaction at a time: no lock to take."""
        if self._sql.lock_named:
            for connector in sorted(set(connectors)):
                await tx.run(self._sql.lock_named, ("pilotgate.receipts." + connector,))

    async def _track_parts(
        self, tx: Statements, handovers: Iterable[Handover], now: datetime
    ) -> None:
        """Inside record_handover's transaction: remember every part's id of the messages
        whose outcome a receipt will tell, and apply receipts that came before."""
        parts = part_rows(handovers)
        if not parts:
            return
        sql = self._sql
        await tx.run(
            "INSERT INTO message_parts (connector, remote_id, server_id, part) "
            "SELECT v.connector, v.remote_id, v.server_id, v.part FROM "
            + sql.table("v", _PART)
            + " WHERE true ON CONFLICT (connector, remote_id) DO UPDATE SET "
            "server_id = excluded.server_id, part = excluded.part, status = NULL, error = 0",
            sql.table_args(parts),
        )
        found = await tx.rows(
            "DELETE FROM early_receipts WHERE (connector, remote_id) IN (SELECT v.c, v.r FROM "
            + sql.table("v", (("c", "text"), ("r", "text")))
            + ") RETURNING connector, remote_id, status, error",
            sql.table_args([(c, r) for c, r, _, _ in parts]),
        )
        early: dict[str, list[tuple[str, int, int]]] = {}
        for connector, remote_id, status, error in found:
            early.setdefault(connector, []).append((remote_id, status, error))
        for connector, items in early.items():
            await self._apply(tx, connector, items, now)

    async def _apply(
        self, tx: Statements, connector: str, items: Sequence[tuple[str, int, int]], now: datetime
    ) -> set[str]:
        """Record parts' outcomes (remote id, status, error) and settle their messages;
        returns the ids that were applied."""
        if not items:
            return set()
        sql = self._sql
        found = await tx.rows(
            "UPDATE message_parts AS p SET status = v.s, error = v.e FROM "
            + sql.table("v", _RECEIPT)
            + " WHERE p.connector = %s AND p.remote_id = v.r AND p.status IS NULL "
            "RETURNING server_id, remote_id",
            (*sql.table_args(items), connector),
        )
        settle = {row[0] for row in found}
        failed = {row[1] for row in found} & {item[0] for item in items if item[1] == -1}
        if failed:
            # VIBERSMS messages whose Viber attempt failed are queued again as SMS instead.
            hybrid = {row[0] for row in found if row[1] in failed}
            settle -= await fall_back(tx, sql, hybrid, now, status=1)
        if settle:
            await tx.run(_SETTLE.format(among=sql.int_in), (now, sql.ints(sorted(settle))))
        return {row[1] for row in found}

    async def record_receipts(
        self, connector: str, receipts: Sequence[Receipt], now: datetime
    ) -> int:
        """Apply final part receipts; returns how many matched a part. A receipt for an id no
        hand-over names yet is kept and applied when one does (duplicates change nothing;
        an early receipt's `details` are not kept)."""
        items = [(r.remote_id, int(r.status), r.error) for r in receipts]
        if not items:
            return 0
        sql = self._sql
        detailed = [(r.remote_id, checks.encode(r.details)) for r in receipts if r.details]
        async with sql.tx() as tx:
            await self._lock_receipts(tx, [connector])
            if detailed:  # before they settle, so the final status is seen with them
                await tx.run(
                    "UPDATE messages SET details = v.d FROM message_parts AS p, "
                    + sql.table("v", (("r", "text"), ("d", "text")))
                    + " WHERE p.connector = %s AND p.remote_id = v.r AND p.status IS NULL "
                    "AND messages.id = p.server_id AND messages.status = 1",
                    (*sql.table_args(detailed), connector),
                )
            applied = await self._apply(tx, connector, items, now)
            rest = [item for item in items if item[0] not in applied]
            if not rest:
                return len(items)
            found = await tx.rows(
                f"SELECT remote_id FROM message_parts WHERE connector = %s AND remote_id "
                f"{sql.text_in}",
                (connector, sql.texts([item[0] for item in rest])),
            )
            known = {row[0] for row in found}  # duplicates: already applied
            early = [item for item in rest if item[0] not in known]
            if early:
                await tx.run(
                    "INSERT INTO early_receipts (connector, remote_id, status, error, received) "
                    "SELECT %s, v.r, v.s, v.e, %s FROM "
                    + sql.table("v", _RECEIPT)
                    + " WHERE true ON CONFLICT DO NOTHING",
                    (connector, now, *sql.table_args(early)),
                )
            return len(items) - len(early)

    # refusals ----------------------------------------------------------------------------------
    async def refuse(self, owner: str, refusals: Sequence[Refusal], now: datetime) -> int:
        """Apply connectors' refusals of messages `owner` claimed; returns how many applied."""
        applied = 0
        async with self._sql.tx() as tx:
            for r in refusals:
                if not r.final:
                    applied += await tx.run(
                        "UPDATE messages SET lease_owner = NULL, lease_until = NULL, "
                        "handing = FALSE, due_at = %s "
                        "WHERE id = %s AND status = 0 AND lease_owner = %s",
                        (r.retry_at, r.server_id, owner),
                    )
                    continue
                if await fall_back(tx, self._sql, [r.server_id], now, status=0, owner=owner):
                    applied += 1  # a VIBERSMS message refused by Viber: queued as an SMS
                    continue
                row = await tx.one(
                    "UPDATE messages SET status = -2, error = %s, modified = %s, "
                    "lease_owner = NULL, lease_until = NULL, handing = FALSE "
                    "WHERE id = %s AND status = 0 AND lease_owner = %s "
                    "RETURNING account_id, price",
                    (r.error, now, r.server_id, owner),
                )
                if row is None:
                    continue
                applied += 1
                if row[1]:  # an error is never charged (contract §6): the price goes back
                    await tx.run(
                        "UPDATE accounts SET balance = balance + %s WHERE id = %s",
                        (row[1], row[0]),
                    )
                    note = f"error {r.error}"
                    await tx.run(LEDGER, (row[0], row[1], "refund", r.server_id, note, now))
        return applied

    async def pending_parts(self, connector: str, limit: int) -> list[str]:
        """Up to `limit` remote ids of parts `connector` took whose outcome is unknown, of
        messages still handed over (1), oldest message first."""
        found = await self._sql.rows(
            "SELECT p.remote_id FROM message_parts p JOIN messages m ON m.id = p.server_id "
            "WHERE p.connector = %s AND p.status IS NULL AND m.status = 1 "
            "ORDER BY p.server_id, p.part LIMIT %s",
            (connector, limit),
        )
        return [row[0] for row in found]

    async def purge_early_receipts(self, before: datetime) -> int:
        """Forget receipts received before `before` that never matched a message."""
        return await self._sql.run("DELETE FROM early_receipts WHERE received < %s", (before,))
