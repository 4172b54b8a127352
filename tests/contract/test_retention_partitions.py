"""Retention by partitions on PostgreSQL (storage/postgres/partitions.py, migration 0030):
`messages`, `callbacks` and `ledger` are partitioned by id. An old partition of final
messages is dropped whole, balances stay exact, a partition with a message still on its
way stays; sends go on across a partition's end; workers rotating at once drop each
partition once. The migration itself keeps every row and every lookup."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pilotgate.domain.messages import Status
from pilotgate.storage import base
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.sql import core
from pilotgate.storage.sql.retention import CARRIED

from .test_retention_store import CUT, OLD, _ledger_sum, _send
from .test_store import NOW, SECOND, balance, draft, new_account, statuses

pytestmark = pytest.mark.postgres

SPAN = 100
TABLES = ("messages", "callbacks", "ledger")
SEQUENCES = {"messages": "message_ids", "callbacks": "callbacks_id_seq", "ledger": "ledger_id_seq"}


async def _one(store: PostgresStore, sql: str, args: tuple[object, ...] = ()) -> object:
    row = await store._sql.one(sql, args)
    assert row is not None
    return row[0]


async def _partitions(store: PostgresStore, table: str) -> list[str]:
    rows = await store._sql.rows(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
        (table,),
    )
    return [row[0] for row in rows]


async def _holding(store: PostgresStore, table: str, row_id: int) -> str:
    """The partition a row lives in."""
    return str(
        await _one(store, f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", (row_id,))
    )


async def _rotate(store: PostgresStore, before: object, gone: str) -> base.Pruned:
    """Rounds until the partition `gone` is dropped (at most 20): a round leaves a table
    another session holds (autovacuum, under load) to the next one, as a worker would."""
    total = base.Pruned()
    for _ in range(20):
        total += await store.rotate_partitions(NOW, before, SPAN)  # type: ignore[arg-type]
        if gone not in await _partitions(store, gone.rsplit("_p", 1)[0]):
            break
    return total


async def _fresh_partitions(store: PostgresStore) -> None:
    """Close the migration's ranges: the next ids go to small partitions made ahead."""
    for table in TABLES:
        top = await _one(
            store,
            "SELECT max((regexp_match(pg_get_expr(c.relpartbound, c.oid), "
            "'TO \\(''(\\d+)''\\)'))[1]::bigint) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            (table,),
        )
        await store._sql.run("SELECT setval(%s, %s)", (SEQUENCES[table], int(top) - 1))  # type: ignore[call-overload]
    await store.rotate_partitions(NOW, None, SPAN)


async def _old_world(store: PostgresStore) -> tuple[int, list[int], list[int]]:
    """An account whose old (final, with callbacks) messages fill a partition of their own,
    then recent ones in the next partition: (account, old ids, recent ids)."""
    account = await new_account(store, balance=100_000)
    await _fresh_partitions(store)
    old = await _send(
        store, account.id, [Status.DELIVERED, Status.UNDELIVERED, Status.DELIVERED], OLD
    )
    for table in TABLES:  # the old partition is full: ids go on in the next one
        await store._sql.run("SELECT setval(%s, %s)", (SEQUENCES[table], old[0] + SPAN - 1))
    await store.rotate_partitions(NOW, None, SPAN)
    recent = await _send(store, account.id, [Status.DELIVERED], NOW - SECOND)
    return account.id, old, recent


async def test_an_old_final_partition_is_dropped_whole_and_balances_stay_exact(
    postgres_dsn: str,
) -> None:
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account_id, old, recent = await _old_world(store)
        old_partition = await _holding(store, "messages", old[0])
        assert old_partition == f"messages_p{old[0]}"
        assert await _holding(store, "messages", recent[0]) != old_partition
        before = (await balance(store, account_id), await _ledger_sum(store, account_id))
        assert before[0] == before[1]

        pruned = await _rotate(store, CUT, old_partition)

        assert pruned.messages == 3
        assert old_partition not in await _partitions(store, "messages")
        assert await _one(store, "SELECT to_regclass(%s) IS NULL", (old_partition,))
        assert await statuses(store, account_id, old + recent) == {recent[0]: Status.DELIVERED}
        assert (
            await _one(
                store, "SELECT count(*) FROM message_parts WHERE server_id = ANY(%s)", (old,)
            )
            == 0
        )
        # The balance, and the sum of the ledger, are what they were; one carried row.
        assert (await balance(store, account_id), await _ledger_sum(store, account_id)) == before
        carried = [e for e in await store.ledger(account_id, None, 100) if e.kind == CARRIED]
        assert len(carried) == 1
        # Nothing is left to batch: the partitions took it all.
        assert not await store.prune(CUT, 500)
        # A second rotation finds nothing more to drop.
        assert not await store.rotate_partitions(NOW, CUT, SPAN)
    finally:
        await store.close()


async def test_a_partition_with_a_scheduled_message_stays_and_batches_take_its_final_rows(
    postgres_dsn: str,
) -> None:
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store, balance=100_000)
        await _fresh_partitions(store)
        old = await _send(store, account.id, [Status.DELIVERED, Status.DELIVERED], OLD)
        scheduled = (
            await store.submit(
                account.id, [draft(status=Status.SCHEDULED, send_datetime=NOW)], OLD + SECOND
            )
        ).server_ids
        await store._sql.run("SELECT setval('message_ids', %s)", (old[0] + SPAN - 1,))
        await store.rotate_partitions(NOW, None, SPAN)
        recent = await _send(store, account.id, [Status.DELIVERED], NOW - SECOND)
        partition = await _holding(store, "messages", old[0])

        assert (await store.rotate_partitions(NOW, CUT, SPAN)).messages == 0
        assert partition in await _partitions(store, "messages")
        # The straggler's partition is wholly old: the batches take its final messages.
        assert (await store.prune(CUT, 500)).messages == 2
        assert await statuses(store, account.id, old + scheduled + recent) == {
            scheduled[0]: Status.SCHEDULED,
            recent[0]: Status.DELIVERED,
        }
    finally:
        await store.close()


async def test_sends_go_on_across_the_end_of_a_partition(postgres_dsn: str) -> None:
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store, balance=100_000)
        await _fresh_partitions(store)
        first = (await store.submit(account.id, [draft()], NOW)).server_ids[0]
        # Three ids left in the last range: a batch of six runs past it (the rest land in
        # the DEFAULT partition), and the next partition starts above them.
        await store._sql.run("SELECT setval('message_ids', %s)", (first + SPAN - 4,))
        crossing = (await store.submit(account.id, [draft()] * 6, NOW)).server_ids
        assert {await _holding(store, "messages", i) for i in crossing[3:]} == {"messages_default"}
        await store.rotate_partitions(NOW, None, SPAN)
        after = (await store.submit(account.id, [draft()] * 2, NOW)).server_ids
        assert await _holding(store, "messages", after[0]) == f"messages_p{crossing[-1] + 1}"
        ids = [first, *crossing, *after]
        assert await statuses(store, account.id, ids) == dict.fromkeys(ids, Status.ACCEPTED)
        # The queue takes them all, whichever partition holds them.
        claimed = await store.claim("w1", NOW, NOW + 30 * SECOND, 100)
        assert sorted(m.server_id for m in claimed) == sorted(ids)
    finally:
        await store.close()


async def test_two_workers_rotating_at_once_drop_each_partition_once(postgres_dsn: str) -> None:
    one = await PostgresStore.open(postgres_dsn)
    two = await PostgresStore.open(postgres_dsn)
    try:
        await one.upgrade()
        account_id, old, recent = await _old_world(one)
        before = (await balance(one, account_id), await _ledger_sum(one, account_id))

        partition = await _holding(one, "messages", old[0])
        dropped = 0
        for _ in range(20):  # rounds of both at once until it is gone (a busy table waits)
            results = await asyncio.gather(
                one.rotate_partitions(NOW, CUT, SPAN), two.rotate_partitions(NOW, CUT, SPAN)
            )
            dropped += sum(r.messages for r in results)
            if partition not in await _partitions(one, "messages"):
                break

        assert dropped == 3
        assert await statuses(one, account_id, old + recent) == {recent[0]: Status.DELIVERED}
        assert (await balance(one, account_id), await _ledger_sum(one, account_id)) == before
    finally:
        await one.close()
        await two.close()


async def test_the_migration_keeps_every_row_and_every_lookup(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = base.migration_scripts
    monkeypatch.setattr(
        core, "migration_scripts", lambda dialect: [m for m in every(dialect) if m[0] < "0030"]
    )
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store, balance=100_000)
        sent = await _send(store, account.id, [Status.DELIVERED, Status.UNDELIVERED], NOW)
        queued = await store.submit(account.id, [draft(callback="http://x.example/cb")], NOW)
        counts = {
            t: await _one(store, f"SELECT count(*) FROM {t}") for t in (*TABLES, "message_parts")
        }
        found = await statuses(store, account.id, [*sent, *queued.server_ids])
        ledger = await store.ledger(account.id, None, 100)

        monkeypatch.setattr(core, "migration_scripts", every)
        # 0030 itself; later migrations (0032's trigger) run on the partitioned parent.
        assert (await store.upgrade())[0] == "0030_partitions.sql"

        for table in TABLES:
            assert (
                await _one(
                    store, "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)
                )
                == "p"
            )
        assert {t: await _one(store, f"SELECT count(*) FROM {t}") for t in counts} == counts
        assert await _holding(store, "messages", sent[0]) == "messages_p0"
        assert await statuses(store, account.id, [*sent, *queued.server_ids]) == found
        assert await store.ledger(account.id, None, 100) == ledger
        # Every index of the old tables serves the partitioned ones: none left to build.
        assert (
            await _one(
                store,
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace",
            )
            == 0
        )
        # New rows go on from the sequences, into the range after the old table's.
        later = (await store.submit(account.id, [draft()], NOW)).server_ids
        assert later[0] > max(sent) and await _holding(store, "messages", later[0]) != "messages_p0"
        assert await store.claim("w1", NOW, NOW + 30 * SECOND, 100)
    finally:
        await store.close()


async def test_old_rows_of_a_partition_not_yet_wholly_old_wait_to_leave_with_it(
    postgres_dsn: str,
) -> None:
    """The partition straddling the cut-off: the batches leave its old rows alone (else
    they would delete row by row what a drop removes at once a little later)."""
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store, balance=100_000)
        await _fresh_partitions(store)
        hour = 3600 * SECOND
        older = await _send(store, account.id, [Status.DELIVERED], CUT - hour)
        younger = await _send(store, account.id, [Status.DELIVERED], CUT + hour)
        await store._sql.run("SELECT setval('message_ids', %s)", (older[0] + SPAN - 1,))
        await store.rotate_partitions(NOW, None, SPAN)
        recent = await _send(store, account.id, [Status.DELIVERED], NOW - SECOND)

        assert not (await store.rotate_partitions(NOW, CUT, SPAN)).messages
        assert not (await store.prune(CUT, 500)).messages
        ids = older + younger + recent
        assert set(await statuses(store, account.id, ids)) == set(ids)

        # Two hours later the whole partition is old: it leaves at once.
        partition = await _holding(store, "messages", older[0])
        assert (await _rotate(store, CUT + 2 * hour, partition)).messages == 2
        assert set(await statuses(store, account.id, ids)) == set(recent)
    finally:
        await store.close()


async def test_a_callbacks_partition_leaves_only_once_every_callback_in_it_is_done(
    postgres_dsn: str,
) -> None:
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store)
        await _fresh_partitions(store)

        async def job(created: object, done: object) -> int:
            row = await store._sql.one(
                "INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at, "
                "done_at) VALUES ('inbound', %s, 1, 'http://a.example/', 'get', %s, %s, %s) "
                "RETURNING id",
                (account.id, created, created, done),
            )
            assert row is not None
            return int(row[0])

        await job(OLD, OLD)
        pending = await job(OLD, None)
        await store._sql.run("SELECT setval('callbacks_id_seq', %s)", (pending + SPAN - 2,))
        await store.rotate_partitions(NOW, None, SPAN)
        await job(NOW, None)
        partition = await _holding(store, "callbacks", pending)

        await store.rotate_partitions(NOW, CUT, SPAN)
        assert partition in await _partitions(store, "callbacks")

        await store._sql.run("UPDATE callbacks SET done_at = %s WHERE id = %s", (OLD, pending))
        await _rotate(store, CUT, partition)
        assert partition not in await _partitions(store, "callbacks")
        assert await _one(store, "SELECT count(*) FROM callbacks") == 1
    finally:
        await store.close()


async def test_a_new_partition_is_sized_by_the_pace_of_the_one_before(postgres_dsn: str) -> None:
    """The next partition is made as the first ids enter the last one, too soon to time it:
    the pace comes from the partition before, which ran its whole span (here 10⁶ ids in
    two days, so a partition of 30 days, retention off, holds 1.5·10⁷ ids, not the
    `SPAN` × 30 assumed without a measured pace)."""
    store = await PostgresStore.open(postgres_dsn)
    try:
        await store.upgrade()
        account = await new_account(store, balance=100_000)
        await _fresh_partitions(store)  # the next ids go to a partition of SPAN ids
        for table in TABLES:  # ... whose last id is taken: the one after holds 10⁶
            low = int(await _one(store, f"SELECT last_value + 1 FROM {SEQUENCES[table]}"))  # type: ignore[call-overload]
            await store._sql.run("SELECT setval(%s, %s)", (SEQUENCES[table], low + SPAN - 1))
        await store.rotate_partitions(NOW, None, 1_000_000)
        start = NOW - timedelta(days=2)
        first = (await store.submit(account.id, [draft()], start)).server_ids[0]
        await store._sql.run("SELECT setval('message_ids', %s)", (first + 1_000_000 - 1,))
        await store.rotate_partitions(NOW, None, SPAN)
        latest = (await store.submit(account.id, [draft()], NOW)).server_ids[0]
        assert await _holding(store, "messages", latest) == f"messages_p{first + 1_000_000}"
        await store.rotate_partitions(NOW, None)  # the span from the measured pace
        made = await _one(
            store,
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = %s",
            (f"messages_p{first + 1_000_000 + SPAN}",),
        )
        low = first + 1_000_000 + SPAN
        high = low + 15_000_000
        assert made == f"FOR VALUES FROM ('{low}') TO ('{high}')"
    finally:
        await store.close()
