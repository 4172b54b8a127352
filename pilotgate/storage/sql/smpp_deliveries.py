"""The deliver_sm owed to accounts' receiving SMPP binds (migration 0018_smpp_deliveries):
receipts and inbound SMS written by triggers, claimed by a bind with a lease as the queue's
messages are, deleted once the client answered with status 0."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain.deliver_sm import Owed

from . import rows
from .core import SqlCore

_COLUMNS = (
    "id, account_id, kind, ref, source, destination, text, status, error, submitted, done, attempts"
)
_owed = rows.reader(Owed, _COLUMNS)


class SmppDeliveryStore(SqlCore):
    """The deliver_sm owed to accounts' receiving binds (storage/sql/smpp_deliveries.py;
    migration 0018): written by the database's triggers, claimed with a lease, deleted once
    answered."""

    async def claim_smpp_deliveries(
        self, account_id: int, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Owed]:
        """Up to `limit` of the account's rows that are due and not leased (or whose lease
        ran out), oldest first, now leased to `owner` until `lease_until`. Two claims never
        hold one row at once (SKIP LOCKED on PostgreSQL)."""
        sql = self._sql
        # PostgreSQL: rows another bind's claim holds are skipped, not waited for, so two
        # nodes never send one row at once and neither stalls the other.
        async with sql.queue_tx(durable=False, planned=False) as tx:
            found = await tx.rows(
                "UPDATE smpp_deliveries SET lease_owner = %s, lease_until = %s WHERE id IN ("
                "SELECT id FROM smpp_deliveries WHERE account_id = %s AND due_at <= %s "
                "AND (lease_until IS NULL OR lease_until < %s) ORDER BY due_at, id "
                f"LIMIT %s{sql.skip_locked}) RETURNING {_COLUMNS}",
                (owner, lease_until, account_id, now, now, limit),
            )
        return sorted((_owed(row, sql.time) for row in found), key=lambda owed: owed.id)

    async def finish_smpp_deliveries(self, owner: str, ids: Sequence[int]) -> int:
        """Delete these rows (answered with status 0) if `owner` still holds them; how many."""
        if not ids:
            return 0
        sql = self._sql
        return await sql.run(
            f"DELETE FROM smpp_deliveries WHERE id {sql.int_in} AND lease_owner = %s",
            (sql.ints(ids), owner),
        )

    async def retry_smpp_deliveries(
        self, owner: str, ids: Sequence[int], due_at: datetime, error: str
    ) -> int:
        """Give these rows back, due again at `due_at`, one attempt more; how many."""
        if not ids:
            return 0
        sql = self._sql
        return await sql.run(
            "UPDATE smpp_deliveries SET attempts = attempts + 1, last_error = %s, due_at = %s, "
            f"lease_owner = NULL, lease_until = NULL WHERE id {sql.int_in} AND lease_owner = %s",
            (error, due_at, sql.ints(ids), owner),
        )

    async def drop_smpp_deliveries(self, before: datetime) -> int:
        """Delete the rows created before `before` (past their validity); how many."""
        return await self._sql.run("DELETE FROM smpp_deliveries WHERE created < %s", (before,))

    async def smpp_deliveries_waiting(self) -> dict[int, int]:
        """Rows owed per account id (accounts owed nothing are absent)."""
        found = await self._sql.rows(
            "SELECT account_id, COUNT(*) FROM smpp_deliveries GROUP BY account_id"
        )
        return {int(account_id): int(count) for account_id, count in found}
