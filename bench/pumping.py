"""SMS-pumping benchmark: how much of an attack the default rules hold, and how much ordinary
traffic they hold by mistake (false positives).

    .venv/bin/python bench/pumping.py                      # SQLite in memory, 1 hour simulated
    .venv/bin/python bench/pumping.py --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/pumping.py --hours 2 --accounts 300 --seed 7

Synthetic traffic, sent through the real send path (`Gateway.send` over a real store, the
settings' defaults, a simulated clock): OTP requests of many accounts of very different sizes
(a few large services, many small ones) to random Russian mobile numbers across the
operators' DEF codes, some users asking for a second code, a share of users abroad (the CIS
countries of the default tariff, Uzbekistan and Tajikistan among them, both priced as
"high-priced" by the default threshold), and a few services whose users are mostly abroad.
Mixed in, the attacks seen in the wild: a leaked key pumping sequential numbers, a bot on a
sign-up form pumping random numbers of one small range, one pumping a premium prefix
abroad, an account suddenly sending to countries it never used, and one bot spreading one
range over several accounts from one address. Every message is one API-1 request.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common import throwaway_schema

from pilotgate import bootstrap, config
from pilotgate.domain import accounts, phones
from pilotgate.domain.messages import Status
from pilotgate.errors import ApiError
from pilotgate.gateway import Gateway, SendRequest
from pilotgate.storage.base import NewAccount
from pilotgate.storage.roles import Store

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
#: DEF codes of Russian mobile operators (MTS, MegaFon, Beeline, Tele2, Yota…).
DEF_CODES = [
    "900", "901", "902", "903", "904", "905", "906", "908", "909", "910", "911", "912",
    "913", "914", "915", "916", "917", "918", "919", "920", "921", "922", "923", "924",
    "925", "926", "927", "928", "929", "930", "931", "932", "933", "934", "936", "937",
    "938", "939", "941", "950", "951", "952", "953", "958", "960", "961", "962", "963",
    "964", "965", "966", "967", "968", "969", "977", "978", "980", "981", "982", "983",
    "984", "985", "986", "987", "988", "989", "991", "992", "993", "994", "995", "996",
    "997", "999",
]  # fmt: skip
#: Users abroad: country code, its mobile prefixes, the digits after them (the default
#: tariff prices each country).
ABROAD = {
    "KZ": ("7", ["700", "701", "702", "705", "707", "747", "771", "775", "777"], 7),
    "BY": ("375", ["25", "29", "33", "44"], 7),
    "UA": ("380", ["50", "66", "67", "68", "93", "97", "99"], 7),
    "UZ": ("998", ["90", "91", "93", "94", "97", "99"], 7),
    "AM": ("374", ["55", "77", "91", "93", "94", "95", "98", "99"], 6),
    "TJ": ("992", ["90", "91", "92", "93", "98", "50", "55", "88"], 7),
    "KG": ("996", ["555", "700", "701", "770", "777"], 6),
}


@dataclass
class Sent:
    kind: str  # "legit" or the attack's name
    status: int


def russian(rng: random.Random) -> str:
    return f"7{rng.choice(DEF_CODES)}{rng.randrange(10**7):07d}"


def abroad(rng: random.Random, only: str | None = None) -> str:
    """A valid mobile number of `only` (a country of ABROAD), else of any of them."""
    code, prefixes, digits = ABROAD[only or rng.choice(sorted(ABROAD))]
    while True:
        phone = f"{code}{rng.choice(prefixes)}{rng.randrange(10**digits):0{digits}d}"
        if not phones.check(phone).error:
            return phone


def public_ip(rng: random.Random) -> str:
    return f"{rng.choice([31, 46, 77, 85, 91, 95, 176, 178, 185, 212])}.{rng.randrange(256)}." \
        f"{rng.randrange(256)}.{rng.randrange(1, 255)}"  # fmt: skip


def legit_traffic(
    rng: random.Random, accounts_: int, hours: float
) -> list[tuple[float, int, str, str, str]]:
    """(second, account index, phone, address, kind) of ordinary OTP traffic."""
    events = []
    span = hours * 3600
    for n in range(accounts_):
        # Sizes by a power law: a few services send thousands an hour, most a handful.
        per_hour = min(3000.0, 4.0 / (rng.random() ** 1.2 + 0.002))
        foreign = 0.6 if n % 25 == 7 else 0.03  # a few services live mostly abroad
        servers = [public_ip(rng) for _ in range(2)]
        t = rng.expovariate(per_hour / 3600)
        while t < span:
            phone = abroad(rng) if rng.random() < foreign else russian(rng)
            events.append((t, n, phone, rng.choice(servers), "legit"))
            if rng.random() < 0.07:  # no code came: the user asks again a minute later
                events.append((t + rng.uniform(30, 120), n, phone, rng.choice(servers), "legit"))
            t += rng.expovariate(per_hour / 3600)
    return events


def attacks(
    rng: random.Random, accounts_: int, hours: float
) -> list[tuple[float, int, str, str, str]]:
    """The attacks, each from its own victim account (an ordinary one with a leaked key)."""
    span = hours * 3600
    events: list[tuple[float, int, str, str, str]] = []
    bot = public_ip(rng)

    def at(start: float, count: int, every: float) -> list[float]:
        return [
            start + i * every * rng.uniform(0.5, 1.5)
            for i in range(count)
            if start + i * every < span
        ]

    # 1. A leaked key: sequential numbers of one range, one request each, every 2 s.
    base = int(f"7{rng.choice(DEF_CODES)}{rng.randrange(10**4):04d}000")
    for i, t in enumerate(at(span * 0.1, 600, 2.0)):
        events.append((t, 1, str(base + i), bot, "sequential"))
    # 2. A sign-up form bot: random numbers of one block of 1000, every 5 s.
    block = f"7{rng.choice(DEF_CODES)}{rng.randrange(10**4):04d}"
    for t in at(span * 0.3, 400, 5.0):
        events.append((t, 2, f"{block}{rng.randrange(1000):03d}", public_ip(rng), "one range"))
    # 3. A premium prefix abroad (Tajikistan, 8.90 a message), every 10 s, random numbers.
    for t in at(span * 0.2, 300, 10.0):
        events.append((t, 3, abroad(rng, "TJ"), public_ip(rng), "premium abroad"))
    # 4. An account that sends to Russia only turns to countries it never used (6-7 rubles,
    #    under the premium threshold), every 8 s.
    for t in at(span * 0.5, 300, 8.0):
        events.append((t, 4, abroad(rng, rng.choice(["AM", "KG", "BY"])), bot, "new countries"))
    # 5. One bot, one range, five victim accounts in turn: only the address connects them.
    block = f"7{rng.choice(DEF_CODES)}{rng.randrange(10**4):04d}"
    for i, t in enumerate(at(span * 0.6, 300, 4.0)):
        victim = 5 + i % 5
        events.append((t, victim, f"{block}{rng.randrange(1000):03d}", bot, "one address"))
    return events


async def open_accounts(store: Store, count: int) -> list[accounts.Account]:
    found = []
    for n in range(count):
        account = await store.create_account(
            NewAccount(
                email=f"service{n}@example.org",
                password_hash="!",
                key_digest=accounts.key_digest(f"bench-key-{n:04d}".ljust(64, "x")),
                tariff_id=1,
            ),
            START,
        )
        await store.credit(account.id, 10_000_000_00, "topup", "bench", START)
        found.append(account)
    return found


async def history(
    gateway: Gateway, clock: list[datetime], accounts_: list[accounts.Account], rng: random.Random
) -> None:
    """A month ago each service sent to the countries its users live in (all of them for
    the services abroad, a few for the others; account 4, whose key leaks to the
    new-country attack, to Russia only): those countries are not new to it now."""
    clock[0] = START - timedelta(days=30)
    for n, account in enumerate(accounts_):
        countries = sorted(ABROAD) if n % 25 == 7 else rng.sample(sorted(ABROAD), 3)
        for country in [] if n == 4 else countries:
            await gateway.send(account, SendRequest(text="Welcome", to=abroad(rng, country)))


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    database, drop_schema = throwaway_schema(args.database)
    settings = config.Settings(database_url=database or "sqlite:///:memory:")
    store = await bootstrap.open_store(settings)
    try:
        await bootstrap.ensure_defaults(store, settings)
        gateway = bootstrap.build_gateway(settings, store)
        clock = [START]
        gateway.clock = lambda: clock[0]
        accounts_ = await open_accounts(store, args.accounts)
        await history(gateway, clock, accounts_, rng)
        events = legit_traffic(rng, args.accounts, args.hours) + attacks(
            rng, args.accounts, args.hours
        )
        events.sort()
        sent: list[Sent] = []
        refused: Counter[str] = Counter()
        started = time.perf_counter()
        for second, who, phone, address, kind in events:
            clock[0] = START + timedelta(seconds=second)
            request = SendRequest(
                text=f"Your code {rng.randrange(10**4):04d}", to=phone, source=address
            )
            try:
                result = await gateway.send(accounts_[who], request)
            except ApiError as exc:
                refused[f"{kind} {exc.code}"] += 1
                continue
            sent.extend(Sent(kind, int(draft.status)) for _, draft in result.items)
        elapsed = time.perf_counter() - started
    finally:
        await store.close()
        drop_schema()
    report(sent, refused, elapsed, args)


def share(part: int, total: int) -> str:
    return f"{part:5} of {total:5} held ({100 * part / max(total, 1):5.1f}%)"


def report(
    sent: list[Sent], refused: Counter[str], elapsed: float, args: argparse.Namespace
) -> None:
    by_kind: dict[str, Counter[int]] = {}
    for item in sent:
        by_kind.setdefault(item.kind, Counter())[item.status] += 1
    legit = by_kind.pop("legit", Counter())
    attack = sum(by_kind.values(), Counter())
    held = int(Status.HELD)
    print(
        f"{args.accounts} accounts, {args.hours:g} h simulated, seed {args.seed}; "
        f"{len(sent)} messages in {elapsed:.0f} s"
    )
    for kind, counts in sorted(by_kind.items()):
        print(f"  attack {kind:15} {share(counts[held], sum(counts.values()))}")
    print(f"  attack, all           {share(attack[held], sum(attack.values()))}")
    legit_total = sum(legit.values())
    print(
        f"  legitimate            {legit[held]:5} of {legit_total:5} held "
        f"({100 * legit[held] / legit_total:5.2f}% false positives)"
    )
    if refused:
        print(f"  refused before the rules: {dict(refused)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: SQLite in memory)")
    parser.add_argument("--accounts", type=int, default=150)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
