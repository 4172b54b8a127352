"""What the SMS-pumping rules cost the store's submit, in process: CPU time of the same
submits with the rules on (the defaults, a process `Recall`, as `Gateway` runs them) and off,
alternated round by round so that drift in a shared machine's load falls on both.

    .venv/bin/python bench/pumping_store.py                       # SQLite in a temp folder
    .venv/bin/python bench/pumping_store.py --database postgresql://postgres@127.0.0.1/test

Three loads: 50 concurrent one-message submits to one number (what bench/api1_send.py's
wrk sends), 50 to 50 new numbers each round (OTPs to different users), and one submit of
the 10,000 numbers of bench/api1_send.py's POST (a new account each round: a first mailing).
CPU time is the benchmark process's own (`time.process_time`); PostgreSQL's is not in it.
The store is one part of a send: an HTTP send costs more, so the rules' share of it is less.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime

from common import throwaway_schema

from pilotgate.domain import pumping
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Status
from pilotgate.domain.tariffs import Rate
from pilotgate.storage.base import NewAccount
from pilotgate.storage.postgres import PostgresStore
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore

try:  # so that the bench also measures checkouts from before the process's Recall
    from pilotgate.domain.tally import Recall
except ImportError:  # pragma: no cover
    Recall = None  # type: ignore[assignment,misc]

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RATES = [Rate(prefix="7", channel="sms", price=395, country="ru", operator="")]


def draft(phone: str) -> Draft:
    return Draft(
        phone=phone, sender="INFORM", text="Code 1234", parts=1, channel="sms", price=395,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, country="ru", operator="Tele2", test=False,
    )  # fmt: skip


async def account(store: Store, n: int) -> int:
    made = await store.create_account(
        NewAccount(email=f"b{n}@example.com", password_hash="!", key_digest=f"k{n}", tariff_id=1),
        NOW,
    )
    await store.credit(made.id, 10**9, "topup", "bench", NOW)
    return made.id


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="PostgreSQL URL (default: SQLite in a temp folder)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", type=int, default=40, help="batches of 50 per round")
    args = parser.parse_args()
    database, drop = throwaway_schema(args.database)
    store: Store
    folder = tempfile.mkdtemp(prefix="pilotgate-bench-")
    if database:
        store = await PostgresStore.open(database, max_size=4)
    else:
        store = SqliteStore(f"{folder}/bench.db")
    try:
        await store.upgrade()
        await store.replace_tariff(1, "default", RATES)
        recall, made = Recall() if Recall is not None else None, itertools.count()
        numbers = itertools.count(79_080_000_000)

        def guard(account_id: int, on: bool) -> SubmitGuard | None:
            if not on:
                return None
            velocity = pumping.Velocity(rules=pumping.DEFAULTS, account_id=account_id)
            if recall is not None:
                velocity = dataclasses.replace(velocity, recall=recall)
            return SubmitGuard(velocity=velocity)

        async def singles(account_id: int, on: bool, same: bool) -> float:
            started = time.process_time()
            for _ in range(args.batches):
                phones = ["79087964781"] * 50 if same else [str(next(numbers)) for _ in range(50)]
                await asyncio.gather(
                    *(
                        store.submit(account_id, [draft(p)], NOW, guard(account_id, on))
                        for p in phones
                    )
                )
            return (time.process_time() - started) / (50 * int(args.batches)) * 1e6

        async def bulk(on: bool) -> float:
            account_id = await account(store, next(made))
            drafts = [
                draft(f"79{(100_000_000 + i * 7919) % 1_000_000_000:09d}") for i in range(10_000)
            ]
            started = time.process_time()
            await store.submit(account_id, drafts, NOW, guard(account_id, on))
            return (time.process_time() - started) * 1e3

        figures: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for on in (True, False):
                account_id = await account(store, next(made))
                for name, run in (
                    ("one number, us/send", singles(account_id, on, True)),
                    ("new numbers, us/send", singles(account_id, on, False)),
                    ("10,000-number submit, ms", bulk(on)),
                ):
                    figures.setdefault((name, on), []).append(await run)
        for name in ("one number, us/send", "new numbers, us/send", "10,000-number submit, ms"):
            rules_on = statistics.median(figures[(name, True)])
            rules_off = statistics.median(figures[(name, False)])
            print(
                f"{name:26} on {rules_on:8.0f}  off {rules_off:8.0f}"
                f"  ({(rules_on / rules_off - 1) * 100:+.0f} %)"
                f"   on {[round(x) for x in figures[(name, True)]]}"
                f"   off {[round(x) for x in figures[(name, False)]]}"
            )
    finally:
        await store.close()
        drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
