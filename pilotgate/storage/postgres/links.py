"""PostgresStore: part receipts, applied set-wise (arrays unnested server-side) so a burst of
deliver_sm costs a few statements, not one per receipt (the rest of links is in
storage/sql/links.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pilotgate.domain import checks

from ..base import Handover, PartReceipt
from ..sql.driver import Statements
from ..sql.links import SqlLinks, part_rows
from .core import Connection, PostgresCore
from .driver import PostgresStatements
from .hybrid import fall_back

# Settle messages from their parts: not delivered as soon as one part finally fails (the
# first failing part's error), delivered once every part is. Only messages still handed over
# (1) move, so a late or duplicated receipt never changes a final status.
_SETTLE = (
    "UPDATE messages m SET modified = %s, "
    "status = CASE WHEN p.failed THEN -1 ELSE 2 END, "
    "error = CASE WHEN p.failed THEN p.err ELSE 0 END "
    "FROM (SELECT server_id, bool_or(status = -1) AS failed, "
    "bool_and(status IS NOT NULL AND status = 2) AS done, "
    "min(error) FILTER (WHERE status = -1) AS err "
    "FROM message_parts WHERE server_id = ANY(%s) GROUP BY server_id) AS p "
    "WHERE m.id = p.server_id AND m.status = 1 AND (p.failed OR p.done)"
)
_APPLY = (
    "UPDATE message_parts p SET status = v.status, error = v.error "
    "FROM unnest(%s::text[], %s::int[], %s::int[]) AS v(remote_id, status, error) "
    "WHERE p.connector = %s AND p.remote_id = v.remote_id AND p.status IS NULL "
    "RETURNING p.server_id, p.remote_id"
)


async def lock_receipts(conn: Connection, connectors: Iterable[str]) -> None:
    """Serialise, per connector, recording hand-overs with part ids and recording receipts.
    Without it a receipt could miss its hand-over both ways under READ COMMITTED: the
    receipt finds no part yet (the hand-over is not committed) and is kept as early, while
    the hand-over looks for early receipts before that one is committed — and the message
    stayed handed over for good (seen: 1,179 of 20,000 with two worker processes)."""
    for connector in sorted(set(connectors)):
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('pilotgate.receipts.' || %s))", (connector,)
        )


async def _apply(
    conn: Connection, connector: str, items: Sequence[tuple[str, int, int]], now: datetime
) -> set[str]:
    """Record parts' outcomes and settle their messages; returns the ids that were applied."""
    if not items:
        return set()
    ids, statuses, errors = (list(column) for column in zip(*items, strict=True))
    cursor = await conn.execute(_APPLY, (ids, statuses, errors, connector))
    rows = await cursor.fetchall()
    settle = {row[0] for row in rows}
    failed = {row[1] for row in rows} & {item[0] for item in items if item[1] == -1}
    if failed:
        # VIBERSMS messages whose Viber attempt failed are queued again as SMS instead.
        hybrid = {row[0] for row in rows if row[1] in failed}
        settle -= await fall_back(conn, hybrid, now, status=1)
    if settle:
        await conn.execute(_SETTLE, (now, sorted(settle)))
    return {row[1] for row in rows}


class PostgresLinks(SqlLinks, PostgresCore):
    """Only what differs from the shared links. PostgresCore stays a base while the outbox
    (PostgresQueue, a subclass) still uses its helpers."""

    async def _to_sms(self, tx: Statements, server_id: int, now: datetime, owner: str) -> bool:
        assert isinstance(tx, PostgresStatements)  # this driver's transactions
        return bool(await fall_back(tx.connection, [server_id], now, status=0, owner=owner))

    async def _track_parts(
        self, conn: Connection, handovers: Iterable[Handover], now: datetime
    ) -> None:
        """Inside record_handover's transaction: remember every part's id of the messages
        whose outcome a receipt will tell, and apply receipts that came before."""
        rows = part_rows(handovers)
        if not rows:
            return
        connectors, remote_ids, server_ids, parts = (list(c) for c in zip(*rows, strict=True))
        await conn.execute(
            "INSERT INTO message_parts (connector, remote_id, server_id, part) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::int[]) "
            "ON CONFLICT (connector, remote_id) DO UPDATE SET server_id = excluded.server_id, "
            "part = excluded.part, status = NULL, error = 0",
            (connectors, remote_ids, server_ids, parts),
        )
        cursor = await conn.execute(
            "DELETE FROM early_receipts e USING unnest(%s::text[], %s::text[]) AS v(c, r) "
            "WHERE e.connector = v.c AND e.remote_id = v.r "
            "RETURNING e.connector, e.remote_id, e.status, e.error",
            (connectors, remote_ids),
        )
        early: dict[str, list[tuple[str, int, int]]] = {}
        for connector, remote_id, status, error in await cursor.fetchall():
            early.setdefault(connector, []).append((remote_id, status, error))
        for connector, items in early.items():
            await _apply(conn, connector, items, now)

    async def record_receipts(
        self, connector: str, receipts: Sequence[PartReceipt], now: datetime
    ) -> int:
        if not receipts:
            return 0
        items = [(r.remote_id, int(r.status), r.error) for r in receipts]
        detailed = [(r.remote_id, checks.encode(r.details)) for r in receipts if r.details]
        async with self._tx() as conn:
            await lock_receipts(conn, [connector])
            if detailed:  # before they settle, so the final status is seen with them
                remote_ids, details = (list(c) for c in zip(*detailed, strict=True))
                await conn.execute(
                    "UPDATE messages m SET details = v.d FROM message_parts p, "
                    "unnest(%s::text[], %s::text[]) AS v(r, d) WHERE p.connector = %s "
                    "AND p.remote_id = v.r AND p.status IS NULL AND m.id = p.server_id "
                    "AND m.status = 1",
                    (remote_ids, details, connector),
                )
            applied = await _apply(conn, connector, items, now)
            rest = [item for item in items if item[0] not in applied]
            if not rest:
                return len(items)
            cursor = await conn.execute(
                "SELECT remote_id FROM message_parts WHERE connector = %s AND remote_id = ANY(%s)",
                (connector, [item[0] for item in rest]),
            )
            known = {row[0] for row in await cursor.fetchall()}  # duplicates: already applied
            early = [item for item in rest if item[0] not in known]
            if early:
                ids, statuses, errors = (list(c) for c in zip(*early, strict=True))
                await conn.execute(
                    "INSERT INTO early_receipts (connector, remote_id, status, error, received) "
                    "SELECT %s, v.r, v.s, v.e, %s "
                    "FROM unnest(%s::text[], %s::int[], %s::int[]) AS v(r, s, e) "
                    "ON CONFLICT DO NOTHING",
                    (connector, now, ids, statuses, errors),
                )
            return len(items) - len(early)
