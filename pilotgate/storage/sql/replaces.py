"""A scheduled message replaced by its owner (SMPP replace_sm): its text, parts, price,
schedule, validity and receipt wish changed, and the price difference charged or refunded,
in one transaction (docs/decisions.md "Replacing a scheduled message").

The UPDATE's guard (`status = 3 AND price = <the price the caller read>`) makes a replace
racing the message's release, its cancel or another replace have one winner: the loser
matches no row and no money moves. A difference to charge takes the balance down only as
far as zero, like a submit: past that, InsufficientFundsError and nothing changed.

The dashboard's per-day spend follows the new price without a statement here: the
`messages_day_status` trigger (migration 0011) fires on a change of `price` as well as of
`status`, in place on SQLite and as a pair of deltas on PostgreSQL
(tests/contract/test_replaces_store.py holds both to the ledger)."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.replacements import Replacement
from pilotgate.errors import InsufficientFundsError

from .core import SqlCore


class SqlReplaces(SqlCore):
    async def replace_scheduled(
        self, account_id: int, server_id: int, price: int, change: Replacement, now: datetime
    ) -> bool:
        """The account's message `server_id`, if still scheduled at `price`, takes `change`
        and the balance pays or gets back the difference, in one transaction. False
        (nothing changed) when it is not, InsufficientFundsError when the balance cannot
        pay the difference (nothing changed)."""
        async with self._sql.tx() as tx:
            row = await tx.one(
                "UPDATE messages SET text = %s, parts = %s, price = %s, send_datetime = %s, "
                "due_at = %s, ttl = %s, expires_at = %s, smpp_receipt = %s, modified = %s "
                "WHERE id = %s AND account_id = %s AND status = 3 AND price = %s RETURNING id",
                (
                    change.text,
                    change.parts,
                    change.price,
                    change.send_datetime,
                    change.send_datetime,
                    change.ttl,
                    change.expires_at,
                    change.smpp_receipt,
                    now,
                    server_id,
                    account_id,
                    price,
                ),
            )
            if row is None:
                return False
            owed = change.price - price
            if owed > 0:
                left = await tx.one(
                    "UPDATE accounts SET balance = balance - %s "
                    "WHERE id = %s AND balance >= %s RETURNING balance",
                    (owed, account_id, owed),
                )
                if left is None:  # leaving the transaction undoes the message's change
                    raise InsufficientFundsError(f"account {account_id}: {owed} more needed")
            elif owed < 0:
                await tx.run(
                    "UPDATE accounts SET balance = balance + %s WHERE id = %s",
                    (-owed, account_id),
                )
            if owed:
                await tx.run(
                    "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                    "VALUES (%s, %s, %s, %s, 'replaced', %s)",
                    (account_id, -owed, "send" if owed > 0 else "refund", server_id, now),
                )
        return True
