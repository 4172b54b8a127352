"""SqliteStore: the hybrid Viber fallback (domain/hybrid.py), applied inside the transaction
that would otherwise end a VIBERSMS message's Viber attempt as failed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from pilotgate.domain import hybrid

#: The message as the SMS it falls back to, queued again at once (due now, no lease, no
#: trace of the Viber hand-over). Its old parts go too: they would settle the SMS as failed.
_REQUEUE = (
    "UPDATE messages SET status = 0, error = 0, channel = 'sms', sender = ?, "
    "sender_orig = ?, parts = ?, price = ?, route = ?, fallback = '', connector = NULL, "
    "remote_id = NULL, outcome_status = NULL, outcome_error = 0, outcome_at = NULL, "
    "details = '', handing = 0, lease_owner = NULL, lease_until = NULL, due_at = ?, "
    "modified = ? WHERE id = ? AND fallback <> ''"
)


def fall_back(
    db: sqlite3.Connection,
    server_ids: Iterable[int],
    stamp: int,
    *,
    status: int,
    owner: str | None = None,
) -> set[int]:
    """Queue again as SMS those of `server_ids` that are in `status` (leased by `owner`
    when given), have a fallback plan, and whose account can pay the difference; returns the
    ones that fell back (the caller ends the others as it meant to)."""
    done: set[int] = set()
    leased = "" if owner is None else " AND lease_owner = ?"
    for server_id in server_ids:
        row = db.execute(
            "SELECT account_id, price, fallback FROM messages WHERE id = ? AND fallback <> '' "
            f"AND status = ?{leased}",
            (server_id, status) if owner is None else (server_id, status, owner),
        ).fetchone()
        plan = hybrid.decode(row[2]) if row is not None else None
        if row is None or plan is None:
            continue
        account_id, price = row[0], row[1]
        entry = hybrid.ledger_entry(price, plan)
        if entry is not None:
            amount, kind = entry
            paid = db.execute(
                "UPDATE accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0 "
                "RETURNING balance",
                (amount, account_id, amount),
            ).fetchone()
            if paid is None:
                continue  # cannot pay the SMS: the Viber leg's failure stands
            db.execute(
                "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                "VALUES (?,?,?,?,?,?)",
                (account_id, amount, kind, server_id, "VIBERSMS sent as SMS", stamp),
            )
        db.execute(
            _REQUEUE,
            (plan.sender, hybrid.VIBERSMS, plan.parts, plan.price, plan.route, stamp, stamp,
             server_id),
        )  # fmt: skip
        db.execute("DELETE FROM message_parts WHERE server_id = ?", (server_id,))
        done.add(server_id)
    return done
