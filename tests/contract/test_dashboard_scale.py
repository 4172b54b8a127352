"""The cabinet's overview (an account's newest messages) and the console's queue counts cost
the same with 2,000 messages as with 40,000: they read indexes, never every message. Measured
in SQLite virtual-machine steps, which do not depend on the machine's load (a page's time at
a million messages is in bench/dashboard_history.py).

SQLite only: the gateway never runs ANALYZE on it, so its planner works without statistics,
which is where both pages went wrong (2.6 s and 0.4 s at a million messages).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from pilotgate.storage.dashboard import HistoryQuery
from pilotgate.storage.sqlite import SqliteStore

from .test_store import NOW, new_account

COLUMNS = "packet_id, account_id, phone, sender, text, parts, channel, price, status, created, "
COLUMNS += "modified, due_at"


def _fill(store: SqliteStore, account_id: int, first: int, count: int) -> None:
    """`count` delivered messages; the few in flight stay as they are."""
    stamp = int(NOW.timestamp() * 1e6)
    store._sql.connection.executemany(
        f"INSERT INTO messages ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            (i, account_id, f"7916{i:07d}", "INFORM", f"text {i}", 1, "sms", 150, 2, stamp + i,
             stamp + i, None)
            for i in range(first, first + count)
        ),
    )  # fmt: skip


def _in_flight(store: SqliteStore, account_id: int) -> None:
    stamp = int(NOW.timestamp() * 1e6)
    store._sql.connection.executemany(
        f"INSERT INTO messages ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (0, account_id, "79160000000", "INFORM", "x", 1, "sms", 150, status, stamp, stamp,
             stamp)
            for status in (0, 1, 3) * 10
        ],
    )  # fmt: skip


async def _steps(store: SqliteStore, call: Callable[[], Awaitable[object]]) -> int:
    """Virtual-machine steps SQLite takes for `call` (counted in hundreds)."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0  # go on

    store._sql.connection.set_progress_handler(tick, 100)
    try:
        await call()
    finally:
        store._sql.connection.set_progress_handler(None, 100)
    return ticks[0] * 100


async def test_overview_and_queue_counts_do_not_grow_with_the_history(tmp_path: Path):
    store = SqliteStore(str(tmp_path / "scale.db"))
    try:
        await store.upgrade()
        account = await new_account(store)
        _in_flight(store, account.id)
        _fill(store, account.id, 1, 2_000)

        def newest() -> Awaitable[object]:
            return store.find_messages(account.id, limit=10)

        def queue() -> Awaitable[object]:
            return store.queue_stats(NOW)

        small = (await _steps(store, newest), await _steps(store, queue))
        _fill(store, account.id, 2_001, 38_000)
        large = (await _steps(store, newest), await _steps(store, queue))
        stats = await store.queue_stats(NOW)
        assert (stats.accepted, stats.handed_over, stats.scheduled) == (10, 10, 10)
        assert len(await store.find_messages(account.id, limit=10)) == 10
        # Twenty times the messages; the same work within noise (a sort or scan is 20x).
        assert large[0] <= small[0] * 1.5 + 1_000, (small, large)
        assert large[1] <= small[1] * 1.5 + 1_000, (small, large)
    finally:
        await store.close()


def _fill_phone(store: SqliteStore, account_id: int, ids: range, age: timedelta) -> None:
    """Messages to one phone, `ids` in order of creation, the first created `age` ago."""
    stamp = int((NOW - age).timestamp() * 1e6)
    store._sql.connection.executemany(
        f"INSERT INTO messages (id, {COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            (i, i, account_id, "79160000001", "INFORM", f"text {i}", 1, "sms", 150, 2,
             stamp + i, stamp + i, None)
            for i in ids
        ),
    )  # fmt: skip


async def test_time_bounded_reads_do_not_grow_with_the_history(tmp_path: Path):
    """Loop protection's look-back, a dated history page and API-1's `hours` listing read the
    last hour from an id bound (no index on `created`, migration 0033), not every message of
    the account or to the phone."""
    store = SqliteStore(str(tmp_path / "scale.db"))
    try:
        await store.upgrade()
        account = await new_account(store)
        _fill_phone(store, account.id, range(1, 2_001), timedelta(days=1))
        _fill_phone(store, account.id, range(1_000_000, 1_000_010), timedelta(0))
        since = NOW - timedelta(hours=1)
        dated = HistoryQuery(since=since, phone="79160000001")

        async def reads() -> tuple[int, ...]:
            return (
                await _steps(store, lambda: store.recent_texts(account.id, ["79160000001"], since)),
                await _steps(store, lambda: store.find_messages(account.id, since=since)),
                await _steps(store, lambda: store.history(account.id, dated, 50, 1000)),
            )

        small = await reads()
        _fill_phone(store, account.id, range(2_001, 40_001), timedelta(days=1))
        large = await reads()
        assert len(await store.recent_texts(account.id, ["79160000001"], since)) == 10
        assert len(await store.find_messages(account.id, since=since)) == 10
        assert len((await store.history(account.id, dated, 50, 1000)).messages) == 10
        for before, after in zip(small, large, strict=True):
            assert after <= before * 1.5 + 1_000, (small, large)
    finally:
        await store.close()
