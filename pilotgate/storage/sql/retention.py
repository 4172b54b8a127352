"""Retention (docs/retention.md): history older than the operator's `retention_days` leaves
in small batches, each its own short transaction, so sends never wait long behind it.

Message and ledger ids grow with time, so the oldest rows are the first ones of the primary
key: a batch walks it from the start, with no index on creation time. Only messages in a
final status leave (a scheduled or stuck message stays, however old), with their parts and
callbacks. The ledger keeps balances exact: the rows that leave are added into one
`carried` row per account (the oldest entry that left, so statements keep their order;
found through its own partial index, migration 0024), and
`accounts.balance` is never touched. The dashboard's per-day statistics stay: they are
counts, not history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pilotgate.domain.messages import FINAL

from ..base import Pruned
from .core import SqlCore

_FINAL = ", ".join(str(int(status)) for status in sorted(FINAL))
#: The kind of the ledger row that stands for every entry removed before it.
CARRIED = "carried"


class SqlRetention(SqlCore):
    async def prune(self, before: datetime, limit: int) -> Pruned:
        return Pruned(
            messages=await self._prune_messages(before, limit),
            inbound=await self._prune_inbound(before, limit),
            ledger=await self._fold_ledger(before, limit),
        )

    async def _prune_messages(self, before: datetime, limit: int) -> int:
        sql = self._sql
        async with sql.tx() as tx:
            rows = await tx.rows(
                f"SELECT id FROM messages WHERE created < %s AND status IN ({_FINAL}) "
                "ORDER BY id LIMIT %s",
                (before, limit),
            )
            if not rows:
                return 0
            ids = sql.ints([row[0] for row in rows])
            await tx.run(f"DELETE FROM message_parts WHERE server_id {sql.int_in}", (ids,))
            await tx.run(
                f"DELETE FROM callbacks WHERE kind = 'status' AND ref {sql.int_in}", (ids,)
            )
            return await tx.run(f"DELETE FROM messages WHERE id {sql.int_in}", (ids,))

    async def _prune_inbound(self, before: datetime, limit: int) -> int:
        sql = self._sql
        async with sql.tx() as tx:
            rows = await tx.rows(
                "SELECT id FROM inbound WHERE created < %s ORDER BY id LIMIT %s", (before, limit)
            )
            if not rows:
                return 0
            ids = sql.ints([row[0] for row in rows])
            await tx.run(
                f"DELETE FROM callbacks WHERE kind = 'inbound' AND ref {sql.int_in}", (ids,)
            )
            return await tx.run(f"DELETE FROM inbound WHERE id {sql.int_in}", (ids,))

    async def _fold_ledger(self, before: datetime, limit: int) -> int:
        sql = self._sql
        async with sql.tx() as tx:
            rows = await tx.rows(
                "SELECT id, account_id, amount FROM ledger WHERE created < %s AND kind <> %s "
                "ORDER BY id LIMIT %s",
                (before, CARRIED, limit),
            )
            if not rows:
                return 0
            by_account: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for entry_id, account_id, amount in rows:
                by_account[account_id].append((entry_id, amount))
            removed: list[int] = []
            for account_id, entries in by_account.items():
                total = sum(amount for _, amount in entries)
                carried = await tx.one(
                    "SELECT id FROM ledger WHERE account_id = %s AND kind = %s",
                    (account_id, CARRIED),
                )
                if carried is not None:
                    keep, gone = carried[0], [entry_id for entry_id, _ in entries]
                    await tx.run(
                        "UPDATE ledger SET amount = amount + %s WHERE id = %s", (total, keep)
                    )
                else:  # the oldest entry leaving becomes the account's carried row
                    keep, gone = entries[0][0], [entry_id for entry_id, _ in entries[1:]]
                    await tx.run(
                        "UPDATE ledger SET amount = %s, kind = %s, ref = NULL, "
                        "note = 'balance carried forward' WHERE id = %s",
                        (total, CARRIED, keep),
                    )
                removed += gone
            if removed:
                await tx.run(f"DELETE FROM ledger WHERE id {sql.int_in}", (sql.ints(removed),))
            return len(rows)
