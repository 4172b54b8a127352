"""The store's outbox: schedules, claims, leases, expiry; with `SqlReceipts`
(storage/sql/receipts.py), what the connectors report back.

The polls run in `queue_tx`: on PostgreSQL planned as a walk of their partial index, the redoable
ones without waiting for the disk, and their subqueries skip rows another process has locked
(`skip_locked`), so any number of pipeline processes share the table. A condition on `handing`
is spelled as the partial indexes spell it (`self._sql.true`/`false`). A hand-over takes the
receipts' lock of its connectors (`SqlReceipts._lock_receipts`) before any row lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import checks, codes
from pilotgate.domain.messages import Message

from ..base import Handover
from . import rows
from .hybrid import fall_back
from .receipts import SqlReceipts

#: A hand-over's row as `record_handover` passes it (`Driver.table`).
_HANDED = (
    ("i", "bigint"),
    ("c", "text"),
    ("r", "text"),
    ("s", "smallint"),
    ("e", "int"),
    ("a", "timestamptz"),
    ("d", "text"),
)
#: The names a message's route lists, as a comma-separated text.
_ROUTE = "CASE WHEN route = '' THEN 'emulator' ELSE route END"


class OutboxStore(SqlReceipts):
    """The pipeline's queue: claims, hand-overs, outcomes, expiry, refusals and receipts."""

    async def release_scheduled(self, now: datetime) -> int:
        """Scheduled messages whose time has come become accepted (3 → 0)."""
        async with self._sql.queue_tx(durable=False) as tx:
            return await tx.run(
                "UPDATE messages SET status = 0, modified = %s WHERE status = 3 AND due_at <= %s",
                (now, now),
            )

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        only: Sequence[str] | None = None,
        shaped: bool = False,
    ) -> list[Message]:
        """Lease up to `limit` due accepted messages to `owner` and mark them as being handed
        over; with `only`, just messages whose route names one of those connectors (a process
        that does not hold a link leaves its messages to the one that does); `shaped`: not of
        accounts whose send bucket is empty until later (`RateStore.take_send_tokens`).
        Two owners never get the same message. If `owner` dies before recording the
        hand-over (or releasing them), the messages stay in doubt and are never claimed
        again: at most one hand-over per message; `end_unknown_handovers` ends them."""
        sql = self._sql
        routed, args = "", [owner, lease_until, now, now]
        if only is not None:
            # Messages stored before routing have route '' and go to the emulator.
            routed = f"AND {sql.any_listed(_ROUTE)} "
            args.append(sql.texts(only))
        if shaped:
            # Accounts past their messages per second wait (domain/rates.py): skipped here,
            # their messages do not fill the batch ahead of other accounts'.
            routed += (
                "AND NOT EXISTS (SELECT 1 FROM account_rates r WHERE "
                "r.account_id = messages.account_id AND r.send_next > %s) "
            )
            args.append(now)
        async with sql.queue_tx() as tx:
            found = await tx.rows(
                "UPDATE messages SET lease_owner = %s, lease_until = %s, handing = TRUE "
                f"WHERE id IN (SELECT id FROM messages WHERE status = 0 AND handing = {sql.false} "
                f"AND due_at <= %s AND (lease_until IS NULL OR lease_until < %s) {routed}"
                f"ORDER BY due_at, id LIMIT %s{sql.skip_locked}) "
                f"RETURNING {rows.MESSAGE_COLUMNS}",
                (*args, limit),
            )
        return sorted((rows.message(row, sql.time) for row in found), key=lambda m: m.server_id)

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        """0 → 1 for messages `owner` still leases; returns how many moved."""
        if not handovers:
            return 0
        sql = self._sql
        stamp = sql.stamp(now)
        async with sql.tx() as tx:
            # First, before any row lock: receipts may be waiting for these part ids.
            await self._lock_receipts(
                tx, (h.connector for h in handovers if h.outcome_status is None)
            )
            # One statement for the whole batch, its rows passed as one table: the same
            # rows as one UPDATE per message, without a statement's binding and stepping
            # per message (SQLite: ~30 % less CPU per hand-over, docs/performance.md).
            handed = await tx.run(
                "UPDATE messages SET status = 1, modified = %s, connector = v.c, "
                "remote_id = v.r, outcome_status = v.s, outcome_error = v.e, outcome_at = v.a, "
                "details = v.d, lease_owner = NULL, lease_until = NULL FROM "
                + sql.table("v", _HANDED)
                + " WHERE messages.id = v.i AND messages.status = 0 "
                "AND messages.lease_owner = %s",
                (
                    stamp,
                    *sql.table_args(
                        [
                            (
                                h.server_id,
                                h.connector,
                                h.remote_id,
                                None if h.outcome_status is None else int(h.outcome_status),
                                h.outcome_error,
                                None if h.outcome_at is None else sql.stamp(h.outcome_at),
                                checks.encode(h.details),
                            )
                            for h in handovers
                        ]
                    ),
                    owner,
                ),
            )
            await self._track_parts(tx, handovers, now)
            return handed

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        """Handed-over messages whose known outcome is due take their final status."""
        sql = self._sql
        # VIBERSMS messages whose Viber outcome is a failure become SMS instead; that moves
        # money, so it waits for the disk (the outcomes below need not).
        async with sql.tx() as tx:
            hybrid = await tx.rows(
                "SELECT id FROM messages WHERE status = 1 AND fallback <> '' AND outcome_at <= %s "
                f"AND outcome_status < 0 ORDER BY outcome_at LIMIT %s{sql.skip_locked}",
                (now, limit),
            )
            fell = len(await fall_back(tx, sql, [row[0] for row in hybrid], now, status=1))
        async with sql.queue_tx(durable=False) as tx:
            return fell + await tx.run(
                "UPDATE messages SET status = outcome_status, error = outcome_error, "
                "modified = %s WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                f"outcome_at <= %s ORDER BY outcome_at LIMIT %s{sql.skip_locked})",
                (now, now, limit),
            )

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        """Give back every message `owner` holds and has not handed over (graceful stop, or a
        connector that refused the whole batch), or only those among `ids`: they can be
        claimed again at once."""
        if ids is None:
            return await self._sql.run(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = FALSE "
                "WHERE lease_owner = %s AND status = 0",
                (owner,),
            )
        async with self._sql.tx() as tx:
            return await tx.many(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = FALSE "
                "WHERE id = %s AND lease_owner = %s AND status = 0",
                [(i, owner) for i in ids if -rows.MAX_ID <= i <= rows.MAX_ID],
            )

    async def expire(self, now: datetime, limit: int) -> int:
        """Messages past their `expires_at` without a final status become -1, error 600;
        not those being handed over (claimed, hand-over not yet recorded): their worker may
        be recording it, else `end_unknown_handovers` ends them."""
        sql = self._sql
        async with sql.queue_tx(durable=False) as tx:
            return await tx.run(
                "UPDATE messages SET status = -1, error = 600, modified = %s, lease_owner = NULL, "
                "lease_until = NULL WHERE id IN (SELECT id FROM messages WHERE status IN (0, 1, 3) "
                f"AND NOT (status = 0 AND handing = {sql.true}) "
                f"AND expires_at <= %s ORDER BY expires_at LIMIT %s{sql.skip_locked})",
                (now, now, limit),
            )

    async def end_unknown_handovers(self, lease_before: datetime, now: datetime, limit: int) -> int:
        """Messages in doubt whose lease ran out before `lease_before` (their worker died
        between claim and recorded hand-over) become -1, error 606 (codes.HANDOVER_UNKNOWN),
        still charged: the connector may have sent them. Returns how many."""
        sql = self._sql
        async with sql.queue_tx() as tx:
            return await tx.run(
                "UPDATE messages SET status = -1, error = %s, modified = %s, lease_owner = NULL, "
                "lease_until = NULL, handing = FALSE WHERE id IN (SELECT id FROM messages "
                f"WHERE status = 0 AND handing = {sql.true} AND lease_until < %s "
                f"ORDER BY lease_until LIMIT %s{sql.skip_locked})",
                (codes.HANDOVER_UNKNOWN, now, lease_before, limit),
            )
