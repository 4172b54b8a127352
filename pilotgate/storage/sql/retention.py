"""Retention (docs/retention.md): history older than the operator's `retention_days` leaves
in small batches, each its own short transaction, so sends never wait long behind it.

Message and ledger ids grow with time, so the oldest rows are the first ones of the primary
key: a batch walks it from the start, with no index on creation time, and stops at the
first young id (`young_from`, a binary search over the primary key): while nothing is old,
a round reads a few dozen rows, not the whole table. Only messages in a
final status leave (a scheduled or stuck message stays, however old), with their parts and
callbacks. The ledger keeps balances exact: the rows that leave are added into one
`carried` row per account (the oldest entry that left, so statements keep their order;
found through its own partial index, migration 0024), and
`accounts.balance` is never touched. The dashboard's per-day statistics stay: they are
counts, not history.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from datetime import datetime, timedelta

from pilotgate.domain.messages import FINAL

from ..base import Pruned
from .core import SqlCore
from .driver import Driver, Statements

_FINAL = ", ".join(str(int(status)) for status in sorted(FINAL))
#: The kind of the ledger row that stands for every entry removed before it.
CARRIED = "carried"


def young_from(table: str) -> str:
    """The first id of `table` from which on every row was created at or after the cut-off
    (both parameters) and the table's first id, found by a binary search over the primary
    key in one statement (about log2(id range) single-row index reads, 64 at most; no row
    when the table is empty): ids grow with time, so `id < young_from` holds every old row
    and a batch need not look past it. The batch gets the bound as a value, not as a
    subquery: PostgreSQL's planner then sees how few rows lie below it and walks the
    primary key, where with an unknown bound it chose a whole-table scan and a sort.

    Each step asks whether the first row at or after the middle of [lo, hi) is young (no
    row: young) and keeps the half that holds the first young id. Ids are taken a few
    milliseconds before `created` by concurrent writers, so near the cut-off the order can
    differ by that much: such a row left above the bound leaves in a later round, once the
    cut-off has moved past it. (SQLite allows the recursive table in no subquery, hence the
    repeated expressions, and reads min() and max() from the index only one per SELECT.)"""

    def young(mid: str) -> str:
        return (
            f"COALESCE((SELECT created >= %s FROM {table} WHERE id >= {mid} "
            "ORDER BY id LIMIT 1), {true})"
        )

    lo = "CASE WHEN young THEN lo ELSE (lo + hi) / 2 + 1 END"
    hi = "CASE WHEN young THEN (lo + hi) / 2 ELSE hi END"
    return f"""WITH RECURSIVE search(lo, hi, young) AS (
        SELECT lo, hi, {young("(lo + hi) / 2")}
          FROM (SELECT (SELECT min(id) FROM {table}) AS lo,
                       (SELECT max(id) FROM {table}) + 1 AS hi) AS whole
        UNION ALL
        SELECT {lo}, {hi}, {young(f"(({lo}) + ({hi})) / 2")} FROM search WHERE lo < hi
    ) SELECT lo, (SELECT min(id) FROM {table}) FROM search WHERE lo >= hi"""


#: How far the order of ids and of `created` may disagree (ids are taken before `created` is
#: stamped, by nodes whose clocks differ a little): `first_id` searches from this much
#: earlier, so no row created at or after the time it is asked for lies below its answer.
ORDER_SLACK = timedelta(seconds=10)


async def first_id(sql: Driver, table: str, when: datetime) -> int | None:
    """An id below which every row of `table` was created before `when` (None: no rows).
    Time filters on messages use it as an id bound on the index they walk anyway (by
    account, by phone), instead of an index on `created` that every insert and every
    status move would maintain (migration 0033): the statement that asks keeps its
    `created` condition, the bound only says where to stop."""
    row = await sql.one(
        young_from(table).replace("{true}", sql.true), (when - ORDER_SLACK, when - ORDER_SLACK)
    )
    return None if row is None else int(row[0])


#: One batch of each kind: the oldest rows below the first young id (`young_from`).
MESSAGES_BATCH = (
    "SELECT id FROM messages WHERE id < %s AND created < %s "
    f"AND status IN ({_FINAL}) ORDER BY id LIMIT %s"
)
INBOUND_BATCH = "SELECT id FROM inbound WHERE id < %s AND created < %s ORDER BY id LIMIT %s"
#: What leaves with a batch of messages, and with one of inbound SMS.
_WITH_MESSAGES = (
    "DELETE FROM message_parts WHERE server_id {among}",
    "DELETE FROM callbacks WHERE kind = 'status' AND ref {among}",
)
_WITH_INBOUND = ("DELETE FROM callbacks WHERE kind = 'inbound' AND ref {among}",)
LEDGER_BATCH = (
    "SELECT id, account_id, amount FROM ledger "
    "WHERE id < %s AND created < %s AND kind <> %s ORDER BY id LIMIT %s"
)


class RetentionStore(SqlCore):
    """Removing history older than the operator's retention (storage/sql/retention.py)."""

    async def _young_from(self, tx: Statements, table: str, before: datetime) -> int | None:
        """The bound of a batch of `table`, or None when no row lies below it: then no
        batch runs at all, whatever plan a table without statistics would get."""
        row = await tx.one(young_from(table).replace("{true}", self._sql.true), (before, before))
        if row is None:
            return None
        bound = await self._batch_floor(tx, table, int(row[0]), before)
        return None if bound <= int(row[1]) else bound

    async def _batch_floor(self, tx: Statements, table: str, bound: int, before: datetime) -> int:
        """Where batches of `table` stop, given its first young id: there, on PostgreSQL
        below what partitions leave whole (postgres/partitions.py)."""
        return bound

    @abstractmethod
    async def rotate_partitions(
        self, now: datetime, before: datetime | None, span: int | None = None
    ) -> Pruned:
        """PostgreSQL: make the partition after the current one (of `span` ids, else about
        a day's), and, when `before` is given, drop whole the partitions whose every row is
        older and final (storage/postgres/partitions.py); what left. SQLite: nothing."""

    async def prune(self, before: datetime, limit: int) -> Pruned:
        """One batch: at most `limit` final messages, inbound messages and ledger entries
        created before `before` leave (the ledger's into its carried row), each kind in its
        own short transaction. Falsy when nothing was left to remove."""
        return Pruned(
            messages=await self._prune("messages", MESSAGES_BATCH, _WITH_MESSAGES, before, limit),
            inbound=await self._prune("inbound", INBOUND_BATCH, _WITH_INBOUND, before, limit),
            ledger=await self._fold_ledger(before, limit),
        )

    async def _prune(
        self, table: str, batch: str, dependents: tuple[str, ...], before: datetime, limit: int
    ) -> int:
        """One batch of `table`'s old rows (`batch`) leaves, after the rows of `dependents`
        that name them."""
        sql = self._sql
        async with sql.tx() as tx:
            bound = await self._young_from(tx, table, before)
            if bound is None:  # nothing old
                return 0
            rows = await tx.rows(batch, (bound, before, limit))
            if not rows:
                return 0
            ids = sql.ints([row[0] for row in rows])
            for dependent in dependents:
                await tx.run(dependent.format(among=sql.int_in), (ids,))
            return await tx.run(f"DELETE FROM {table} WHERE id {sql.int_in}", (ids,))

    async def _fold_ledger(self, before: datetime, limit: int) -> int:
        sql = self._sql
        async with sql.tx() as tx:
            bound = await self._young_from(tx, "ledger", before)
            if bound is None:  # nothing old
                return 0
            rows = await tx.rows(LEDGER_BATCH, (bound, before, CARRIED, limit))
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
