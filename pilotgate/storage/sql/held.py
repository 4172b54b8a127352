"""Held messages (status 4, domain/pumping.py) as the operator sees and settles them: the
batches (one an account), release (charged then, queued) and reject (-2, error 223, never
charged). Migration 0021_pumping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pilotgate.errors import InsufficientFundsError

from ..base import HeldBatch, Settled
from .core import SqlCore

#: One account's held messages, or one of them (`AND id = %s`).
_WHERE = "WHERE account_id = %s AND status = 4"


def _which(account_id: int, message_id: int | None) -> tuple[str, tuple[Any, ...]]:
    if message_id is None:
        return _WHERE, (account_id,)
    return _WHERE + " AND id = %s", (account_id, message_id)


class HeldStore(SqlCore):
    """Messages held as suspected SMS pumping (status 4, domain/pumping.py)."""

    async def held_batches(self) -> list[HeldBatch]:
        """Every account's held messages, one batch an account, in account order."""
        found = await self._sql.rows(
            "SELECT account_id, COUNT(*), SUM(price), MIN(created), MAX(created), MIN(phone), "
            "MAX(phone) FROM messages WHERE status = 4 GROUP BY account_id ORDER BY account_id"
        )
        time = self._sql.time
        return [
            HeldBatch(
                account_id=int(account),
                messages=int(count),
                price=int(price or 0),
                first=time(first),
                last=time(last),
                lowest=str(low),
                highest=str(high),
            )
            for account, count, price, first, last, low, high in found
        ]

    async def held_count(self) -> int:
        row = await self._sql.one("SELECT COUNT(*) FROM messages WHERE status = 4")
        return 0 if row is None else int(row[0])

    async def release_held(self, account_id: int, message_id: int | None, now: datetime) -> Settled:
        """Charge and queue (0) the account's held messages (or the one `message_id`), all
        in one transaction; their validity starts again. Raises InsufficientFundsError
        (nothing changes) when the balance does not cover them."""
        where, args = _which(account_id, message_id)
        async with self._sql.tx() as tx:
            # The account first, as a submit locks it: its balance pays for them all or none.
            await tx.run(
                f"SELECT 1 FROM accounts WHERE id = %s{self._sql.for_update}", (account_id,)
            )
            rows = await tx.rows(
                f"SELECT id, price, created, expires_at FROM messages {where}",
                args,
            )
            if not rows:
                return Settled(messages=0, amount=0)
            cost = sum(int(row[1]) for row in rows)
            if cost:
                paid = await tx.one(
                    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s "
                    "RETURNING balance",
                    (cost, account_id, cost),
                )
                if paid is None:
                    raise InsufficientFundsError(f"account {account_id} cannot pay {cost}")
                await tx.run(
                    "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (account_id, -cost, "send", min(int(r[0]) for r in rows),
                     f"{len(rows)} held messages released", now),
                )  # fmt: skip
            # Its validity starts again: a message must not expire for the operator's delay
            # (it was charged just now, and -1 stays charged).
            time = self._sql.time
            await tx.many(
                "UPDATE messages SET status = 0, modified = %s, expires_at = %s "
                "WHERE id = %s AND status = 4",
                [
                    (now, None if r[3] is None else now + (time(r[3]) - time(r[2])), r[0])
                    for r in rows
                ],
            )
        return Settled(messages=len(rows), amount=cost)

    async def reject_held(
        self, account_id: int, message_id: int | None, error: int, now: datetime
    ) -> Settled:
        """End the account's held messages (or the one) as -2 with `error`, price 0: they
        never were charged, so nothing is refunded and the balance is as before the send."""
        where, args = _which(account_id, message_id)
        changed = await self._sql.run(
            f"UPDATE messages SET status = -2, error = %s, price = 0, modified = %s {where}",
            (error, now, *args),
        )
        return Settled(messages=changed, amount=0)

    async def purge_velocity(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` velocity counters (and as many remembered numbers) of
        windows that started before `before`; how many rows went."""
        counts = await self._sql.run(
            "DELETE FROM velocity_counts WHERE (scope, key, start) IN "
            "(SELECT scope, key, start FROM velocity_counts WHERE start < %s LIMIT %s)",
            (before, limit),
        )
        numbers = await self._sql.run(
            "DELETE FROM velocity_numbers WHERE (scope, phone, start) IN "
            "(SELECT scope, phone, start FROM velocity_numbers WHERE start < %s LIMIT %s)",
            (before, limit),
        )
        return counts + numbers
