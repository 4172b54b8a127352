"""The hybrid Viber fallback (domain/hybrid.py), applied inside the transaction that would
otherwise end a VIBERSMS message's Viber attempt as failed.

The driver says how an id is one of a list passed as one argument, and PostgreSQL locks the
rows it reads in id order, so that two transactions falling back the same messages wait for
each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pilotgate.domain import hybrid

from .driver import Driver, Statements
from .money import CREDIT, LEDGER

#: The messages of a list (the driver appends how `id` is one of them) that are in a status
#: (%s), leased by an owner when one is given (%s, %s), and have a fallback plan.
_SELECT_PLANS = (
    "SELECT id, account_id, price, fallback FROM messages WHERE fallback <> '' "
    "AND status = %s AND (CAST(%s AS TEXT) IS NULL OR lease_owner = %s) AND id "
)

#: The message as the SMS it falls back to, queued again at once (due now, no lease, no
#: trace of the Viber hand-over). Its old parts go too: they would settle the SMS as failed.
_REQUEUE = (
    "UPDATE messages SET status = 0, error = 0, channel = 'sms', sender = %s, "
    "sender_orig = %s, parts = %s, price = %s, route = %s, fallback = '', connector = NULL, "
    "remote_id = NULL, outcome_status = NULL, outcome_error = 0, outcome_at = NULL, "
    "details = '', handing = FALSE, lease_owner = NULL, lease_until = NULL, due_at = %s, "
    "modified = %s WHERE id = %s AND fallback <> ''"
)


async def fall_back(
    tx: Statements,
    sql: Driver,
    server_ids: Iterable[int],
    now: datetime,
    *,
    status: int,
    owner: str | None = None,
) -> set[int]:
    """Queue again as SMS those of `server_ids` that are in `status` (leased by `owner`
    when given), have a fallback plan, and whose account can pay the difference; returns the
    ones that fell back (the caller ends the others as it meant to). `tx` is a transaction
    of `sql`."""
    done: set[int] = set()
    wanted = sorted(set(server_ids))
    if not wanted:
        return done
    plans = await tx.rows(
        f"{_SELECT_PLANS}{sql.int_in} ORDER BY id{sql.for_update}",
        (status, owner, owner, sql.ints(wanted)),
    )
    for server_id, account_id, price, stored in plans:
        plan = hybrid.decode(stored)
        if plan is None:
            continue
        entry = hybrid.ledger_entry(price, plan)
        if entry is not None:
            amount, kind = entry
            if await tx.one(CREDIT, (amount, account_id, amount)) is None:
                continue  # cannot pay the SMS: the Viber leg's failure stands
            note = "VIBERSMS sent as SMS"
            await tx.run(LEDGER, (account_id, amount, kind, server_id, note, now))
        await tx.run(
            _REQUEUE,
            (plan.sender, hybrid.VIBERSMS, plan.parts, plan.price, plan.route, now, now,
             server_id),
        )  # fmt: skip
        await tx.run("DELETE FROM message_parts WHERE server_id = %s", (server_id,))
        done.add(server_id)
    return done
