"""Scheduled messages cancelled by their owner (API-1 `cancel`, SMPP cancel_sm): 3 → -2 with
error 604 and their price back on the balance, in one transaction (docs/decisions.md
"Cancelling a scheduled message").

The status guard (`status = 3`) is in the UPDATE itself, so a cancel racing the release of
a message (3 → 0, queue.py) or its expiry has exactly one winner on either database: the
loser's UPDATE matches no row and nothing is refunded. The refund is the stored price, the
amount the submit debited, as a `refund` ledger row naming each message.

`cancel_group` serves SMPP's two other ways of naming what to cancel: every message of a
submit (a submit_multi's id names its packet), or every message of the account from one
sender to one phone (cancel_sm without a message_id, SMPP 3.4 §4.9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import codes
from pilotgate.domain.messages import Status, move

from .core import SqlCore
from .driver import Row, Statements

_CANCEL = (
    "UPDATE messages SET status = -2, error = %s, modified = %s, "
    "lease_owner = NULL, lease_until = NULL "
    "WHERE account_id = %s AND status = 3 AND "
)


class SqlCancels(SqlCore):
    async def cancel_scheduled(self, account_id: int, server_id: int, now: datetime) -> bool:
        """The account's message `server_id`, if still scheduled (3), becomes -2/604 and its
        price goes back to the balance, in one transaction. False (nothing changed) when it
        is not the account's or no longer scheduled."""
        # The table allows 3 -> -2, or this raises (the literal below is held to the table
        # by tests/contract/test_status_moves.py).
        move(Status.SCHEDULED, Status.ERROR)
        async with self._sql.tx() as tx:
            row = await tx.one(
                _CANCEL + "id = %s RETURNING id, price",
                (codes.CANCELLED, now, account_id, server_id),
            )
            if row is None:
                return False
            await _refund(tx, account_id, [row], now)
        return True

    async def cancel_group(
        self,
        account_id: int,
        now: datetime,
        *,
        packet_id: int | None = None,
        phone: str = "",
        senders: Sequence[str] = (),
    ) -> list[int]:
        """The account's still-scheduled messages of packet `packet_id` (the message of that
        id included), or else those to `phone` from one of `senders` (a name, or a 2WAY
        message's "2WAY"), become -2/604 with their prices refunded, all in one transaction.
        Their ids ([]: none was)."""
        move(Status.SCHEDULED, Status.ERROR)
        args: tuple[object, ...]
        if packet_id is not None:
            where, args = "(id = %s OR packet_id = %s)", (packet_id, packet_id)
        else:
            if not senders:
                return []
            names = ", ".join(["%s"] * len(senders))
            where = f"phone = %s AND (sender IN ({names}) OR sender_orig IN ({names}))"
            args = (phone, *senders, *senders)
        async with self._sql.tx() as tx:
            found = await tx.rows(
                _CANCEL + where + " RETURNING id, price",
                (codes.CANCELLED, now, account_id, *args),
            )
            await _refund(tx, account_id, found, now)
        return sorted(int(row[0]) for row in found)


async def _refund(tx: Statements, account_id: int, cancelled: Sequence[Row], now: datetime) -> None:
    """Each cancelled (id, price) back on the balance, with a ledger row naming it."""
    total = sum(int(price) for _, price in cancelled)
    if not total:
        return
    await tx.run("UPDATE accounts SET balance = balance + %s WHERE id = %s", (total, account_id))
    await tx.many(
        "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
        "VALUES (%s, %s, 'refund', %s, 'cancelled', %s)",
        [(account_id, int(price), int(sid), now) for sid, price in cancelled if price],
    )
