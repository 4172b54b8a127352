"""A scheduled message cancelled by its owner (API-1 `cancel`, SMPP cancel_sm): 3 → -2 with
error 604 and its price back on the balance, in one transaction (docs/decisions.md
"Cancelling a scheduled message").

The status guard (`status = 3`) is in the UPDATE itself, so a cancel racing the release of
the message (3 → 0, queue.py) or its expiry has exactly one winner on either database: the
loser's UPDATE matches no row and nothing is refunded. The refund is the stored price, the
amount the submit debited, as a `refund` ledger row naming the message."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain import codes
from pilotgate.domain.messages import Status, move

from .core import SqlCore


class SqlCancels(SqlCore):
    async def cancel_scheduled(self, account_id: int, server_id: int, now: datetime) -> bool:
        # The table allows 3 -> -2, or this raises (the literal below is held to the table
        # by tests/contract/test_status_moves.py).
        move(Status.SCHEDULED, Status.ERROR)
        async with self._sql.tx() as tx:
            row = await tx.one(
                "UPDATE messages SET status = -2, error = %s, modified = %s, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE id = %s AND account_id = %s AND status = 3 RETURNING price",
                (codes.CANCELLED, now, server_id, account_id),
            )
            if row is None:
                return False
            if row[0]:
                await tx.run(
                    "UPDATE accounts SET balance = balance + %s WHERE id = %s",
                    (row[0], account_id),
                )
                await tx.run(
                    "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                    "VALUES (%s, %s, 'refund', %s, %s, %s)",
                    (account_id, row[0], server_id, "cancelled", now),
                )
        return True
