"""The PostgreSQL store through PgBouncer in transaction pooling mode (issue 14, item 2):
each transaction may be served by another server session, and several clients share one.
Migrations, queue claims, link leases and receipts keep their guarantees; times stay UTC
whatever another client of the pooler sets; nothing is prepared by name
(`postgres_prepare = false`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from pilotgate.errors import StorageError
from pilotgate.storage.postgres import PostgresStore
from tests.pgbouncer import Bouncer, pgbouncer
from tests.postgres import fresh_schema

from . import test_links_store, test_store
from .conftest import Backend
from .test_store import LEASE, NOW, SECOND, draft, is_utc, new_account, run_all

pytestmark = pytest.mark.postgres


@pytest.fixture
def bouncer(tmp_path: Path) -> Iterator[Bouncer]:
    # Two server sessions for every client of the test: they must take turns on them.
    with fresh_schema() as direct, pgbouncer(direct, tmp_path, pool_size=2) as running:
        yield running


@pytest.fixture
async def pooled(bouncer: Bouncer) -> AsyncIterator[Backend]:
    backend = Backend(name="postgres", target=bouncer.url, prepare=False)
    try:
        yield backend
    finally:
        for store in backend.opened:  # before the pooler and the schema go
            await store.close()


async def test_upgrades_through_the_pooler_apply_each_migration_once(pooled: Backend) -> None:
    # The upgrade lock is a transaction's advisory lock: it holds on whichever server
    # session the pooler lends the upgrade's one transaction.
    await test_store.test_concurrent_upgrades_apply_each_migration_once(pooled)


async def test_receipts_racing_hand_overs_through_the_pooler_are_never_lost(
    pooled: Backend,
) -> None:
    await test_links_store.test_a_receipt_racing_its_handover_from_another_process_is_never_lost(
        pooled
    )


async def test_claims_through_the_pooler_never_share_a_message(pooled: Backend) -> None:
    one, two = await pooled.open(), await pooled.open()
    await one.upgrade()
    account = await new_account(one, balance=300 * 150)
    ids = (await one.submit(account.id, [draft() for _ in range(300)], NOW)).server_ids
    claims = [(one if n % 2 else two).claim(f"w{n}", NOW, NOW + LEASE, 7) for n in range(60)]
    got = [m.server_id for batch in await run_all(claims) for m in batch]
    assert len(got) == len(set(got))
    rest = [m.server_id for m in await two.claim("sweep", NOW, NOW + LEASE, 1_000)]
    assert sorted(got + rest) == ids


async def test_one_process_holds_a_link_through_the_pooler(pooled: Backend) -> None:
    one, two = await pooled.open(), await pooled.open()
    await one.upgrade()
    for n in range(10):
        now = NOW + n * 20 * SECOND  # each round after the last round's lease ran out
        taken = await run_all(
            [store.hold_link("smsc", f"p{i}", now, now + 15 * SECOND) for i, store in
             enumerate((one, two, one, two))]
        )  # fmt: skip
        assert taken.count(True) == 1
    assert [lease.owner for lease in await two.link_leases()] in (["p0"], ["p1"], ["p2"], ["p3"])


async def test_times_stay_utc_when_another_client_sets_its_time_zone(
    pooled: Backend, bouncer: Bouncer
) -> None:
    store = await pooled.open()
    await store.upgrade()
    with psycopg.connect(bouncer.url, autocommit=True) as other:
        other.execute("SET TIME ZONE 'Asia/Tokyo'")  # tracked by PgBouncer for that client
        account = await new_account(store, balance=10_000)
        for _ in range(12):  # past psycopg's threshold for preparing a statement
            other.execute("SELECT 1")
            sid = (await store.submit(account.id, [draft()], NOW)).server_ids[0]
            (message,) = await store.messages_by_id(account.id, [sid])
            assert message.created == NOW and is_utc(message.created)
        row = other.execute("SELECT current_setting('TimeZone')").fetchone()
        assert row == ("Asia/Tokyo",)


async def test_prepared_statements_break_through_the_pooler_unless_turned_off(
    bouncer: Bouncer,
) -> None:
    # Why `postgres_prepare` exists: two clients of PgBouncer 1.18 sharing a server session
    # both name their first prepared statement _pg3_0.
    clients = bouncer.pool_size + 1  # so that two of them prepare on one server session
    stores = [await PostgresStore.open(bouncer.url, max_size=1) for _ in range(clients)]
    try:
        # An upgrade builds indexes beside its locked transaction: a pool of two at least.
        upgrading = await PostgresStore.open(bouncer.url, max_size=2, prepare=False)
        stores.append(upgrading)
        await upgrading.upgrade()
        with pytest.raises(StorageError, match="prepared statement"):
            for _ in range(10):
                await run_all([store.tariffs() for store in stores[:clients]])
    finally:
        for store in stores:
            await store.close()
