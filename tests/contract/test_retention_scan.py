"""Retention's rounds while nothing is old yet: a prune reads a few rows, not the whole
history (each worker runs one every 5 s). SQLite counts its virtual-machine steps, which do
not depend on the machine's load; PostgreSQL shows the rows its plan read (EXPLAIN ANALYZE)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store
from pilotgate.storage.sql.retention import MESSAGES_BATCH, young_from
from pilotgate.storage.sqlite import SqliteStore

from .test_dashboard_scale import _steps
from .test_store import NOW, new_account

CUT = NOW - timedelta(days=30)


async def _young(store: Store, account_id: int, first: int, count: int) -> None:
    """`count` delivered messages created now (younger than the cut-off), in one statement."""
    await store._sql.run(
        "WITH RECURSIVE n(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
        "INSERT INTO messages (id, packet_id, account_id, phone, sender, text, parts, channel, "
        "price, status, created, modified) "
        "SELECT i, i, %s, '79160000000', 'INFORM', 'young', 1, 'sms', 150, 2, %s, %s FROM n",
        (first, first + count - 1, account_id, NOW, NOW),
    )


async def _count(store: Store) -> int:
    row = await store._sql.one("SELECT count(*) FROM messages")
    assert row is not None
    return int(row[0])


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan's scans of `messages` produced or filtered out, over every loop."""
    read = 0
    if plan.get("Relation Name") == "messages":
        loops = plan.get("Actual Loops", 1)
        read += (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * loops
    return read + sum(_rows_read(child) for child in plan.get("Plans", []))


async def test_a_prune_with_nothing_old_reads_few_rows(store: Store) -> None:
    account = await new_account(store)
    await _young(store, account.id, 1_000_000, 1_000)
    if isinstance(store, SqliteStore):
        small = await _steps(store, lambda: store.prune(CUT, 500))
    await _young(store, account.id, 1_001_000, 99_000)

    pruned = await store.prune(CUT, 500)
    assert (pruned.messages, pruned.inbound, pruned.ledger) == (0, 0, 0)
    assert await _count(store) == 100_000  # every young message stays
    if isinstance(store, SqliteStore):
        large = await _steps(store, lambda: store.prune(CUT, 500))
        # A hundred times the messages, the same work within noise (a walk is 100x).
        assert large <= small * 1.5 + 1_000, (small, large)
    else:
        assert isinstance(store, PostgresStore)
        sql = store._sql
        # A server's autovacuum has analysed a table this size. (Without statistics the
        # batch's plan is a whole-table scan; with nothing below the bound it never runs.)
        await sql.run("ANALYZE messages")
        search = young_from("messages").replace("{true}", sql.true)
        bound = await sql.one(search, (CUT, CUT))
        # The first message is young: the bound is the first id, and nothing lies below it.
        assert bound is not None and bound[0] == bound[1] == 1_000_000
        read = 0
        for statement, args in ((search, (CUT, CUT)), (MESSAGES_BATCH, (bound[0], CUT, 500))):
            row = await sql.one("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, args)
            assert row is not None
            plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
            read += _rows_read(plan[0]["Plan"])
        # The binary search reads about log2(10⁵) = 17 rows; the old walk read 100,000.
        assert read < 200, read
