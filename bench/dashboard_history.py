"""Every cabinet and console page with a million messages in the database.

    .venv/bin/python bench/dashboard_history.py                  # SQLite in a temporary folder
    .venv/bin/python bench/dashboard_history.py --messages 200000
    .venv/bin/python bench/dashboard_history.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/dashboard_history.py --database … --messages 10000000 --keep
    .venv/bin/python bench/dashboard_history.py --reuse URL --messages 10000000 --pages text

Fills the database straight through SQL (one account owns every message: the worst case for
its pages), spread over 90 days, with a realistic mix of statuses, operators, senders and
phones, and the per-day statistics `submit` would have kept for them. On PostgreSQL the fill
goes a day at a time, the housekeeping round's `rotate_partitions` after each, with a
90-day retention: the id-range partitions production would have by then (a thirtieth of the
retention each, about 30), not every row in one. Then starts
`pilotgate serve` without the pipeline on it, logs in to the cabinet and to the console and
times every page of both (history with each filter, the overview, the console's queue page):
median and worst of `--rounds` requests, one at a time, over real HTTP. Every page must stay
under 300 ms; the CSV export is a download of the whole history and is not timed here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from common import pilotgate, start_server, stop_server, throwaway_schema

OPERATORS = [("Tele2", 395), ("MTS", 435), ("Beeline", 420), ("MegaFon", 410)]
#: (status, error) with its share in a thousand.
STATUSES = [(2, 0)] * 900 + [(-1, 601)] * 70 + [(-2, 204)] * 10 + [(1, 0)] * 10 + [(0, 0)] * 10
DAYS = 90
OPERATOR = ("bench-operator@example.com", "bench-operator-password")
#: Past the range migration 0030 makes ahead on a new database (10⁷ ids from 10,001): the
#: ids of an older history whose partitions retention has dropped, so the 90 days filled
#: are spread over the partitions the round makes as they come, as in production.
FIRST_ID = 100_000_000


def rows(account_id: int, count: int, now: datetime) -> Iterator[tuple[object, ...]]:
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / count
    for i in range(count):
        server_id = FIRST_ID + i
        operator, price = OPERATORS[i % 4]
        status, error = STATUSES[(i * 7919) % 1000]
        created = start + step * i
        yield (
            server_id, server_id, account_id, f"7916{(i * 2654435761) % 10_000_000:07d}",
            "SHOP" if i % 10 else "INFORM", f"Order {i} is ready, code {i % 9973}", 1,
            "viber" if i % 50 == 0 else "sms", 0 if status == -2 else price, status, error,
            created, created, "RU", operator,
        )  # fmt: skip


COLUMNS = (
    "id, packet_id, account_id, phone, sender, text, parts, channel, price, status, error, "
    "created, modified, country, operator"
)


#: What `submit` adds to the per-day statistics, for the rows the bench inserted itself.
AGGREGATE = (
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "SELECT account_id, {day}, status, operator, count(*), sum(price) FROM messages "
    "GROUP BY 1, 2, 3, 4"
)


def fill_sqlite(path: str, account_id: int, count: int, now: datetime, analyze: bool) -> None:
    import sqlite3

    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def micros(row: tuple[object, ...]) -> tuple[object, ...]:
        values = list(row)
        for index in (11, 12):
            when = values[index]
            assert isinstance(when, datetime)
            values[index] = (when - epoch) // timedelta(microseconds=1)
        return tuple(values)

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    db.executemany(
        f"INSERT INTO messages ({COLUMNS}) VALUES ({','.join('?' * 15)})",
        (micros(row) for row in rows(account_id, count, now)),
    )
    db.execute(AGGREGATE.format(day="created / 86400000000"))
    db.execute("COMMIT")
    # The gateway never runs ANALYZE on SQLite, so by default neither does the bench: the
    # planner then has no statistics, as in a real database (it chose differently with them).
    if analyze:
        db.execute("ANALYZE")
    db.close()


#: The same rows as `rows()`, made by the server itself: a client-side COPY of 10⁷ rows took
#: minutes, this takes a fraction of it. `{i}` is the row's number from generate_series.
_PG_ROWS = """
SELECT %(first)s + i, %(first)s + i, %(account)s,
       '7916' || lpad(((i * 2654435761) %% 10000000)::text, 7, '0'),
       CASE WHEN i %% 10 = 0 THEN 'INFORM' ELSE 'SHOP' END,
       'Order ' || i || ' is ready, code ' || (i %% 9973), 1,
       CASE WHEN i %% 50 = 0 THEN 'viber' ELSE 'sms' END,
       CASE WHEN s.status = -2 THEN 0 ELSE (ARRAY[395, 435, 420, 410])[i %% 4 + 1] END,
       s.status, s.error,
       %(start)s + make_interval(secs => i * %(step)s),
       %(start)s + make_interval(secs => i * %(step)s),
       'RU', (ARRAY['Tele2', 'MTS', 'Beeline', 'MegaFon'])[i %% 4 + 1]
  FROM generate_series(%(low)s::bigint, %(high)s::bigint - 1) AS i,
       LATERAL (SELECT CASE WHEN k < 900 THEN 2 WHEN k < 970 THEN -1 WHEN k < 980 THEN -2
                            WHEN k < 990 THEN 1 ELSE 0 END AS status,
                       CASE WHEN k < 900 THEN 0 WHEN k < 970 THEN 601 WHEN k < 980 THEN 204
                            ELSE 0 END AS error
                  FROM (SELECT (i * 7919) %% 1000 AS k) AS kk) AS s
"""


def fill_postgres(url: str, account_id: int, count: int, now: datetime) -> None:
    import asyncio

    import psycopg

    from pilotgate.storage.postgres import PostgresStore
    from pilotgate.storage.postgres.partitions import partition_days

    assert STATUSES[0] == (2, 0) and len(STATUSES) == 1000  # _PG_ROWS spells this mix out
    start = now - timedelta(days=DAYS)
    # A 90-day retention: partitions of 3 days each. The span (the ids of 3 days at this
    # fill's pace) is passed: the round itself measures the pace on the partition ids have
    # just entered, which has run less than an hour when the round sees it, so it would take
    # `SPAN` (10⁷ a day) and put the whole fill in one partition (reported, not changed here).
    span = max(1, partition_days(start, start - timedelta(days=DAYS)) * count // DAYS)
    with asyncio.Runner() as loop, psycopg.connect(url, autocommit=True) as conn:
        store = loop.run(PostgresStore.open(url, min_size=1, max_size=1))

        def advance(taken: int, when: datetime) -> None:
            """The ids taken so far, then the housekeeping round at `when` (it makes the
            partition after the one ids are taken in, and drops the empty ones 0030 left)."""
            conn.execute("SELECT setval('message_ids', %s)", (taken,))
            loop.run(store.rotate_partitions(when, when - timedelta(days=DAYS), span))

        try:
            # Indexes are built once after the load (as a restore does): maintained row by
            # row, 10⁷ inserts into a dozen indexes took most of the fill. Same definitions
            # after; the partitions made meanwhile get them from the parent's then.
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages' "
                "AND schemaname = current_schema() AND indexname <> 'messages_pkey'"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            advance(FIRST_ID - 1, start)
            step = DAYS * 86400 / count
            for day in range(DAYS):
                low, high = day * count // DAYS, (day + 1) * count // DAYS
                conn.execute(
                    f"INSERT INTO messages ({COLUMNS}) {_PG_ROWS}",
                    {"first": FIRST_ID, "account": account_id, "start": start, "step": step,
                     "low": low, "high": high},
                )  # fmt: skip
                advance(FIRST_ID + high - 1, start + timedelta(days=day + 1))
        finally:
            loop.run(store.close())
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            # A partitioned table's definition reads `ON ONLY messages`: as written it makes
            # an invalid parent index and none on the partitions (every page then scanned).
            conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
        conn.execute("SELECT setval('message_ids', %s)", (FIRST_ID + count,))
        conn.execute(AGGREGATE.format(day="floor(extract(epoch FROM created) / 86400)::integer"))
        invalid = conn.execute(
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid AND indrelid = 'messages'::regclass"
        ).fetchone()
        assert invalid == (0,), f"{invalid} invalid indexes on messages"
        conn.execute("VACUUM ANALYZE messages")
        conn.execute("ANALYZE")
        layout = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE n > 0), max(n), "
            "(SELECT count(*) FROM messages_default) FROM (SELECT c.reltuples::bigint AS n "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'messages'::regclass) AS p"
        ).fetchone()
        assert layout is not None
        print(
            f"partitions of messages: {layout[0]} ({layout[1]} holding rows, at most "
            f"{layout[2]:,} each; {layout[3]} rows in the DEFAULT one)"
        )


def login(client: httpx.Client, area: str, email: str, password: str) -> None:
    page = client.get(f"/{area}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        f"/{area}/login", data={"csrf": token.group(1), "email": email, "password": password}
    )
    assert answer.status_code == 303, answer.text


def cabinet_pages(now: datetime, messages: int) -> list[tuple[str, str]]:
    middle = FIRST_ID + messages // 2
    week = (now - timedelta(days=40)).date()
    return [
        ("overview", "/cabinet/"),
        ("history, first page", "/cabinet/history"),
        ("history, a page in the middle", f"/cabinet/history?before={middle}"),
        ("history, one phone", "/cabinet/history?phone=79160000000"),
        ("history, status -1", "/cabinet/history?status=-1"),
        ("history, status 0 (rare)", "/cabinet/history?status=0"),
        (
            "history, one week 40 days ago",
            f"/cabinet/history?from={week}&to={week + timedelta(days=6)}",
        ),
        ("history, sender INFORM", "/cabinet/history?sender=INFORM"),
        ("history, channel viber", "/cabinet/history?channel=viber"),
        # No index on sender or channel: one that matches nothing is windowed like the text.
        ("history, sender matching nothing", "/cabinet/history?sender=NOBODY"),
        ("history, channel matching nothing", "/cabinet/history?channel=voice"),
        ("history, text search", "/cabinet/history?q=code%2042"),
        # No row matches: the walk covers the whole account (the worst case; docs).
        ("history, text search, no match", "/cabinet/history?q=nothing-like-this"),
        (
            "history, no match, search older (middle)",
            f"/cabinet/history?q=nothing-like-this&before={middle}",
        ),
        (
            "history, no match, within a week",
            f"/cabinet/history?q=nothing&from={week}&to={week + timedelta(days=6)}",
        ),
        ("message detail", f"/cabinet/messages/{middle}"),
        ("statistics, 30 days", "/cabinet/stats?days=30"),
        ("statistics, 90 days", "/cabinet/stats?days=90"),
        ("statistics, 366 days", "/cabinet/stats?days=366"),
        ("send form", "/cabinet/send"),
        ("API key", "/cabinet/key"),
        ("settings", "/cabinet/settings"),
        ("sender names", "/cabinet/senders"),
        ("inbound", "/cabinet/inbound"),
        ("balance and ledger", "/cabinet/balance"),
        ("referrals", "/cabinet/referrals"),
        ("API examples", "/cabinet/api"),
        ("password", "/cabinet/password"),
    ]


def console_pages(account_id: int) -> list[tuple[str, str]]:
    return [
        ("console: accounts", "/console/"),
        ("console: the account", f"/console/accounts/{account_id}"),
        ("console: sender names", "/console/senders"),
        ("console: tariffs", "/console/tariffs"),
        ("console: tariff 1", "/console/tariffs/1"),
        ("console: connectors", "/console/connectors"),
        ("console: queue", "/console/queue"),
        ("console: stop list", "/console/stops"),
        ("console: password", "/console/password"),
    ]


def timed(client: httpx.Client, path: str, rounds: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code)
        size = len(answer.content)
    return statistics.median(times) * 1000, max(times) * 1000, size


def fill(
    env: dict[str, str], url: str, args: argparse.Namespace, email: str, password: str
) -> tuple[int, datetime]:
    out = pilotgate(
        env,
        "account",
        "create",
        "--email",
        email,
        "--password",
        password,
        "--balance",
        "100000",
    )
    found = re.search(r"account (\d+)", out)
    assert found is not None
    account_id, now = int(found.group(1)), datetime.now(UTC)
    started = time.perf_counter()
    if url.startswith("sqlite"):
        fill_sqlite(url.removeprefix("sqlite:///"), account_id, args.messages, now, args.analyze)
    else:
        fill_postgres(url, account_id, args.messages, now)
    print(
        f"filled {args.messages:,} messages in {time.perf_counter() - started:.1f} s "
        f"({'SQLite' if url.startswith('sqlite') else 'PostgreSQL'})"
    )
    pilotgate(env, "operator", "add", OPERATOR[0], "--password", OPERATOR[1])
    return account_id, now


def keep() -> None:
    """What --reuse does with the database at the end: leaves it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="postgresql://… (default: SQLite in a temp dir)")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run ANALYZE on SQLite after filling (PostgreSQL: always)",
    )
    parser.add_argument(
        "--search-window", type=int, help="dashboard_search_window (default: the setting's)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the filled database and print its URL for --reuse (drop it yourself)",
    )
    parser.add_argument("--reuse", metavar="URL", help="time a database --keep left, no fill")
    parser.add_argument("--pages", metavar="REGEX", help="time only the pages so named")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pilotgate-dash-"))
    if args.reuse:
        url, drop = args.reuse, keep
    else:
        database, drop = throwaway_schema(args.database)
        url = database or f"sqlite:///{workdir / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGATE_")}
    env |= {"PILOTGATE_DATABASE_URL": url, "PILOTGATE_LOG_LEVEL": "warning"}
    if args.search_window:
        env["PILOTGATE_DASHBOARD_SEARCH_WINDOW"] = str(args.search_window)
    proc = None
    try:
        email, password = "bench@example.com", "bench-password"
        if args.reuse:
            found = re.search(r"(\d+)", pilotgate(env, "account", "list"))
            assert found is not None
            account_id, now = int(found.group(1)), datetime.now(UTC)
        else:
            account_id, now = fill(env, url, args, email, password)
        proc, base = start_server(env | {"PILOTGATE_PIPELINE": "false"}, 1)
        print(f"{'page':42} {'median ms':>10} {'max ms':>8} {'bytes':>8}")
        slowest = 0.0
        for area, (who, secret), pages in (
            ("cabinet", (email, password), cabinet_pages(now, args.messages)),
            ("console", OPERATOR, console_pages(account_id)),
        ):
            with httpx.Client(base_url=base, timeout=60) as client:
                # The login page first: once logged in, it redirects to the overview.
                timings = [(f"{area}: login page", timed(client, f"/{area}/login", args.rounds))]
                login(client, area, who, secret)
                client.get(f"/{area}/")  # warm the page cache once
                timings += [
                    (label, timed(client, path, args.rounds))
                    for label, path in pages
                    if not args.pages or re.search(args.pages, label)
                ]
                for label, (median, worst, size) in timings:
                    slowest = max(slowest, median)
                    print(f"{label:42} {median:10.1f} {worst:8.1f} {size:8}")
        print(f"slowest median: {slowest:.1f} ms (every page must stay under 300 ms)")
    finally:
        if proc is not None:
            stop_server(proc)
        if args.keep:
            print(f"kept: --reuse '{url}'")
        else:
            drop()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
