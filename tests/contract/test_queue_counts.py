"""The console's queue counts (and the metrics' scrape): the oldest due message's age counts
only messages already due, and on PostgreSQL the counts keep one plan once prepared. With
`messages` partitioned (~30 partitions), a statement with parameters is planned afresh at
each run, every subquery over every partition: that planning was most of the queue page's
time at 10⁷ messages (docs/performance.md)."""

from __future__ import annotations

import pytest

from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store

from .test_store import NOW, SECOND, draft, new_account


async def test_the_oldest_due_age_counts_only_messages_already_due(store: Store) -> None:
    account = await new_account(store, balance=1_000)
    await store.submit(account.id, [draft()], NOW + 10 * SECOND)  # queued, due in 10 s
    assert (await store.queue_stats(NOW)).oldest_due_seconds == 0.0
    stats = await store.queue_stats(NOW + 13 * SECOND)
    assert (stats.accepted, stats.oldest_due_seconds) == (1, 3.0)


@pytest.mark.postgres
async def test_the_queue_counts_keep_one_plan_once_prepared(postgres_dsn: str) -> None:
    # One connection: the prepared statements and their plan counters are its session's.
    store = await PostgresStore.open(postgres_dsn, max_size=1)
    try:
        await store.upgrade()
        account = await new_account(store, balance=1_000)
        await store.submit(account.id, [draft()], NOW)
        for _ in range(10):  # psycopg prepares a statement on its sixth run
            assert (await store.queue_stats(NOW)).accepted == 1
        plans = await store._sql.rows(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%%status = 1%%'"
        )
        # A custom plan is the statement planned again for its parameters' values.
        assert [(generic > 0, custom) for generic, custom in plans] == [(True, 0)], plans
    finally:
        await store.close()
