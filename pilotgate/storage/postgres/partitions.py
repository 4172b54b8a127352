"""PostgreSQL: history leaves by partitions dropped whole (docs/retention.md).

`messages`, `callbacks` and `ledger` are partitioned by RANGE on their id (migration 0030):
ids grow with time, so a partition is a stretch of time, and the primary key is still `id`.
Once a minute a worker makes sure the partition after the current one exists
(`partition_days` of ids at the current partition's pace, `_day_of_ids`; a DEFAULT
partition takes any id no range holds, so an insert never fails), then drops whole every
closed partition (the sequence is past its end) whose newest row is older than the cut-off,
oldest first:

- `messages`: only when none of its rows is still scheduled, queued, handed over or held;
  its messages' parts and status callbacks leave in the same transaction. A partition with
  such a straggler stays, and the batched deletes (sql/retention.py) take its final rows;
- `callbacks`: only when none of its rows is still to be sent;
- `ledger`: its rows are first added into each account's `carried` row in the same
  transaction (the account's oldest entry that left becomes it when it has none yet; its
  id's range is no partition's any more, so it lands in the DEFAULT partition), so every
  balance, and the sum of every ledger, stays exact.

Every step is one transaction under a transaction-scoped advisory lock (PgBouncer in
transaction mode, docs/pooling.md) that first checks again what it is about to do, so
workers running the round together make each partition once and drop it once. Each waits
at most `LOCK_WAIT` for the table locks a partition's creation or drop takes: a busy table
is left to the next round, never a send left waiting behind it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pilotgate.errors import LockBusyError

from ..base import Pruned
from ..sql.driver import Statements
from ..sql.retention import CARRIED, RetentionStore
from .driver import schema_lock

log = logging.getLogger(__name__)

#: Ids a partition holds: about a day at 100 msg/s (decisions.md, "Retention by
#: partitions"); migration 0030 made the first one with the same span.
SPAN = 10_000_000
#: Bounds of a partition's span as measured from traffic (`_day_of_ids`).
MIN_SPAN, MAX_SPAN = 10_000, 1_000_000_000
#: How long the old rows of a closed partition may wait for its newest row to grow old too,
#: and the partition to be dropped whole, before the batched deletes take them anyway: the
#: days a partition holds (`partition_days`).
GRACE = timedelta(days=1)
#: Partitions that live at once, about: statements that cannot choose partitions by id (the
#: queue's claim by status, the dashboard's per-account pages) plan and probe each one.
LIVE_PARTITIONS = 30


def partition_days(now: datetime, before: datetime | None) -> int:
    """Days of traffic a new partition holds: a thirtieth of the retention (at least one),
    so that about `LIVE_PARTITIONS` exist whatever `retention_days` is; with retention off
    nothing is dropped and each holds the most, 30 days (12 a year)."""
    if before is None:
        return LIVE_PARTITIONS
    return min(LIVE_PARTITIONS, max(1, (now - before).days // LIVE_PARTITIONS))


#: The tables partitioned by id and the sequence each takes its ids from.
SEQUENCES = {"messages": "message_ids", "callbacks": "callbacks_id_seq", "ledger": "ledger_id_seq"}
LOCK_WAIT = "SET LOCAL lock_timeout = '100ms'"
_LOCK = schema_lock("'pilotgate.partitions'")
#: Storage parameters of a new partition, as migration 0032 set them on the existing ones:
#: a callback job's claim sets only unindexed columns, so with room on its page it is a HOT
#: update (no index entries; claims then walk fewer dead ones in callbacks_pending).
_STORAGE = {"callbacks": " WITH (fillfactor = 50)"}

#: Each partition of a table: name, lower and upper bound ('MINVALUE' or digits; NULL for
#: the DEFAULT partition).
_PARTITIONS = (
    "SELECT c.relname, b[1], b[2] FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "LEFT JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), "
    "'FROM \\(''?(\\w+)''?\\) TO \\(''?(\\w+)''?\\)') AS b ON true "
    "WHERE i.inhparent = to_regclass(%s)"
)
#: A message still on its way: each status its own partial index (0, 1, 3, 4).
_UNFINISHED = (
    "SELECT EXISTS (SELECT 1 FROM {0} WHERE status = 0) "
    "OR EXISTS (SELECT 1 FROM {0} WHERE status = 1) "
    "OR EXISTS (SELECT 1 FROM {0} WHERE status = 3) "
    "OR EXISTS (SELECT 1 FROM {0} WHERE status = 4)"
)

Range = tuple[str, int | None, int]  # name, lower bound (None: MINVALUE), upper bound


def _bound(text: str | None) -> int | None:
    return None if text is None or text == "MINVALUE" else int(text)


class PostgresPartitions(RetentionStore):
    #: The days the last round's partitions were made to hold (`rotate_partitions`).
    _partition_days = 1

    async def _ranges(self, tx: Statements, table: str) -> list[Range]:
        """The table's range partitions, oldest first (no DEFAULT)."""
        rows = await tx.rows(_PARTITIONS, (table,))
        ranges = [(row[0], _bound(row[1]), int(row[2])) for row in rows if row[2] is not None]
        return sorted(ranges, key=lambda part: -(2**63) if part[1] is None else part[1])

    async def _batch_floor(self, tx: Statements, table: str, bound: int, before: datetime) -> int:
        """The batched deletes stop below the partition holding the first young id `bound`
        when that partition is closed and will be wholly old within its span: its old rows
        wait to leave with it, dropped whole. A partition ids are still taken from, or one whose
        newest row is young for longer (traffic fell, and its ids lasted far longer than
        planned), is batched as before, so nothing stays much past `retention_days`."""
        if table not in SEQUENCES:
            return bound
        ranges = [part for part in await self._ranges(tx, table) if part[2] > bound]
        if not ranges or (ranges[0][1] is not None and ranges[0][1] > bound):
            return bound  # the id is in the DEFAULT partition
        name, low, high = ranges[0]
        taken = await tx.one(f"SELECT last_value FROM {SEQUENCES[table]}")
        if taken is None or int(taken[0]) < high:
            return bound  # still open
        newest = await tx.one(f"SELECT created FROM {name} ORDER BY id DESC LIMIT 1")
        grace = GRACE * self._partition_days
        if newest is None or newest[0] < before or newest[0] >= before + grace:
            # Wholly old and still here: a straggler's (or one a busy table kept), batched.
            return bound
        return -(2**63) if low is None else low

    async def rotate_partitions(
        self, now: datetime, before: datetime | None, span: int | None = None
    ) -> Pruned:
        messages = ledger = 0
        self._partition_days = partition_days(now, before)
        for table in SEQUENCES:
            try:
                await self._open_ahead(table, now, span)
                if before is not None:
                    dropped = await self._drop_old(table, before)
                    messages += dropped if table == "messages" else 0
                    ledger += dropped if table == "ledger" else 0
            except LockBusyError:  # a table busy: the next round does it
                log.info("partitions of %s: table busy, left to the next round", table)
        return Pruned(messages=messages, ledger=ledger)

    async def _open_ahead(self, table: str, now: datetime, span: int | None) -> None:
        """Once ids are taken from the last range partition, make the one after it."""
        async with self._sql.tx() as tx:
            taken = await tx.one(f"SELECT last_value FROM {SEQUENCES[table]}")
            ranges = await self._ranges(tx, table)
            assert taken is not None and ranges
            last = ranges[-1][1]
            if last is not None and int(taken[0]) < last:
                return  # the common case, decided without a lock
            await tx.run(LOCK_WAIT)
            await tx.run(_LOCK)
            ranges = await self._ranges(tx, table)  # another worker may have
            _, last, top = ranges[-1]
            if last is not None and int(taken[0]) < last:
                return
            # The pace since the previous partition began: the last one has only just begun
            # (this runs as its first ids are taken), too soon to tell a day's ids.
            since = ranges[-2][1] if len(ranges) > 1 else last
            span = span or min(
                MAX_SPAN,
                self._partition_days * await self._day_of_ids(tx, table, since, int(taken[0]), now),
            )
            row = await tx.one(f"SELECT max(id) FROM {table}_default")
            # Ids past the last range went to the DEFAULT partition: a range may not hold them.
            low = max(top, int(row[0]) + 1) if row and row[0] is not None else top
            high = max(low + span, int(taken[0]) + span)
            await tx.run(
                f"CREATE TABLE {table}_p{low} PARTITION OF {table} "
                f"FOR VALUES FROM ({low}) TO ({high}){_STORAGE.get(table, '')}"
            )
            log.info("partition %s_p%d made: ids %d to %d", table, low, low, high - 1)

    async def _day_of_ids(
        self, tx: Statements, table: str, low: int | None, taken: int, now: datetime
    ) -> int:
        """About the ids a day takes, from the pace since the id `low` (`SPAN` until an hour
        has passed since its row), so a partition holds about a day whatever the traffic."""
        start = -(2**63) if low is None else low
        first = await tx.one(
            f"SELECT id, created FROM {table} WHERE id >= %s ORDER BY id LIMIT 1",
            (start,),
        )
        if first is None or now - first[1] < timedelta(hours=1):
            return SPAN
        per_day = (taken - int(first[0])) * (timedelta(days=1) / (now - first[1]))
        return int(min(max(per_day, MIN_SPAN), MAX_SPAN))

    async def _drop_old(self, table: str, before: datetime) -> int:
        """Drop the closed partitions whose every row is older than `before` (and, for
        messages, final), oldest first; rows they held in all."""
        async with self._sql.tx() as tx:
            taken = await tx.one(f"SELECT last_value FROM {SEQUENCES[table]}")
            ranges = await self._ranges(tx, table)
        assert taken is not None
        removed = 0
        for name, low, high in ranges:
            if high > int(taken[0]):
                break  # ids are still taken in it: the current partition and those ahead
            async with self._sql.tx() as tx:
                await tx.run(LOCK_WAIT)
                await tx.run(_LOCK)
                if not any(part[0] == name for part in await self._ranges(tx, table)):
                    continue  # another worker dropped it
                newest = await tx.one(f"SELECT created FROM {name} ORDER BY id DESC LIMIT 1")
                # Ids are taken a few milliseconds before `created`: a row may be that much
                # younger than the newest, and leave that much before its cut-off.
                if newest is not None and newest[0] >= before:
                    continue  # young (those after it mostly too: one row read each)
                if not await self._may_drop(tx, table, name):
                    continue  # a straggler: the batched deletes take its final rows
                counted = await tx.one(f"SELECT count(*) FROM {name}")
                await self._before_drop(tx, table, name, low, high)
                await tx.run(f"DROP TABLE {name}")
                removed += int(counted[0]) if counted else 0
                log.info("partition %s dropped (ids below %d, older than %s)", name, high, before)
        return removed

    async def _may_drop(self, tx: Statements, table: str, name: str) -> bool:
        if table == "messages":
            row = await tx.one(_UNFINISHED.format(name))
        elif table == "callbacks":
            row = await tx.one(f"SELECT EXISTS (SELECT 1 FROM {name} WHERE done_at IS NULL)")
        else:
            return True
        return row is not None and not row[0]

    async def _before_drop(
        self, tx: Statements, table: str, name: str, low: int | None, high: int
    ) -> None:
        """What leaves with a partition, in its transaction."""
        lowest = -(2**63) if low is None else low
        if table == "messages":
            await tx.run(
                "DELETE FROM message_parts WHERE server_id >= %s AND server_id < %s",
                (lowest, high),
            )
            await tx.run(
                "DELETE FROM callbacks WHERE kind = 'status' AND ref >= %s AND ref < %s",
                (lowest, high),
            )
        elif table == "ledger":
            await self._carry(tx, name)

    async def _carry(self, tx: Statements, name: str) -> None:
        """Fold a ledger partition into each account's carried row, as the batched path
        does; the partition is detached first, so a carried row found is outside it."""
        totals = await tx.rows(
            f"SELECT account_id, sum(amount), min(id), (array_agg(created ORDER BY id))[1] "
            f"FROM {name} GROUP BY account_id ORDER BY account_id"
        )
        await tx.run(f"ALTER TABLE ledger DETACH PARTITION {name}")
        for account_id, total, first_id, first_created in totals:
            carried = await tx.one(
                "SELECT id FROM ledger WHERE account_id = %s AND kind = %s", (account_id, CARRIED)
            )
            if carried is not None:
                await tx.run(
                    "UPDATE ledger SET amount = amount + %s WHERE id = %s", (total, carried[0])
                )
            else:  # the account's oldest entry leaving becomes its carried row
                await tx.run(
                    "INSERT INTO ledger (id, account_id, amount, kind, ref, note, created) "
                    "VALUES (%s, %s, %s, %s, NULL, 'balance carried forward', %s)",
                    (first_id, account_id, total, CARRIED, first_created),
                )
