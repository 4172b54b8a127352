"""The SMS-pumping defence's counters (migration 0021_pumping, domain/pumping.py), grown in
the submit's own transaction by each dialect's group commit: the statements are written
once here, with `%s` placeholders and times converted by the caller's `stamp`.

A batch's counters are grown before any account row is locked, all in one statement with
its rows in one order: two processes' batches then take the counter rows in the same order,
and no counter waits on an account row (no deadlock with the caps and the debit). A submit
refused later (112, 223) leaves its counts grown: they are what was attempted."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pilotgate.domain import pumping
from pilotgate.domain.messages import Draft, Status
from pilotgate.domain.pumping import CounterKey, Velocity

Stamp = Callable[[datetime], Any]
#: (sql, args) of one statement.
Statement = tuple[str, list[Any]]


def seen(
    velocity: Velocity, drafts: Sequence[Draft], now: datetime, stamp: Stamp
) -> Statement | None:
    """Record the foreign countries the drafts go to; RETURNING each one's first use."""
    countries = pumping.foreign(drafts, velocity.rules)
    if not countries or not velocity.rules.new_country_limit:
        return None
    values = ", ".join(["(%s, %s, %s)"] * len(countries))
    args: list[Any] = []
    for country in countries:
        args += [velocity.account_id, country, stamp(now)]
    return (
        f"INSERT INTO account_countries (account_id, country, first_seen) VALUES {values} "
        "ON CONFLICT (account_id, country) DO UPDATE SET first_seen = account_countries.first_seen "
        "RETURNING country, first_seen",
        args,
    )


def new_countries(
    velocity: Velocity,
    returned: Sequence[Sequence[Any]],
    now: datetime,
    time: Callable[[Any], datetime],
) -> frozenset[str]:
    """The countries of `seen`'s answer still new to the account."""
    since = now - timedelta(seconds=velocity.rules.learning)
    return frozenset(str(country) for country, first in returned if time(first) > since)


def count(grow: dict[CounterKey, int], stamp: Stamp) -> Statement | None:
    """Grow the counters; RETURNING each one's count after."""
    if not grow:
        return None
    keys = sorted(grow)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(keys))
    args: list[Any] = []
    for scope, key, start in keys:
        args += [scope, key, stamp(start), grow[(scope, key, start)]]
    return (
        f"INSERT INTO velocity_counts (scope, key, start, count) VALUES {values} "
        "ON CONFLICT (scope, key, start) DO UPDATE "
        "SET count = velocity_counts.count + excluded.count RETURNING scope, key, start, count",
        args,
    )


def counts(
    returned: Sequence[Sequence[Any]], time: Callable[[Any], datetime]
) -> dict[CounterKey, int]:
    return {(str(scope), str(key), time(start)): int(n) for scope, key, start, n in returned}


def numbers(batch: Sequence[Judged], stamp: Stamp) -> Statement | None:
    """Remember the numbers the batch's judged submits send to in their window; RETURNING
    those that were new there."""
    rows = set()
    for index in plan(batch):
        velocity, drafts, now = batch[index]
        assert velocity is not None
        when = pumping.start(now, velocity.rules)
        rows |= {(scope, phone, when) for scope, phone in pumping.numbers(drafts, velocity)}
    if not rows:
        return None
    ordered = sorted(rows)
    values = ", ".join(["(%s, %s, %s)"] * len(ordered))
    args: list[Any] = []
    for scope, phone, when in ordered:
        args += [scope, phone, stamp(when)]
    return (
        f"INSERT INTO velocity_numbers (scope, phone, start) VALUES {values} "
        "ON CONFLICT (scope, phone, start) DO NOTHING RETURNING scope, phone",
        args,
    )


def fresh(batch: Sequence[Judged], returned: Sequence[Sequence[Any]]) -> dict[int, pumping.Fresh]:
    """Each judged submit's numbers new in the window (`numbers`' answer): a number two
    submits of the batch send to is new to the first one only."""
    left = {(str(scope), str(phone)) for scope, phone in returned}
    found: dict[int, pumping.Fresh] = {}
    for index in sorted(plan(batch)):
        velocity, drafts, _ = batch[index]
        assert velocity is not None
        mine = frozenset(pumping.numbers(drafts, velocity)) & left
        left -= mine
        found[index] = mine
    return found


def grown(
    batch: Sequence[Judged], new: dict[int, frozenset[str]], new_numbers: dict[int, pumping.Fresh]
) -> dict[int, dict[CounterKey, int]]:
    """How much each judged submit grows each counter (worked out once per batch)."""
    found = {}
    for index in plan(batch):
        velocity, drafts, now = batch[index]
        assert velocity is not None
        countries, phones = new.get(index, frozenset()), new_numbers.get(index, frozenset())
        found[index] = pumping.increments(drafts, velocity, countries, now, phones)
    return found


def merged(grows: dict[int, dict[CounterKey, int]]) -> dict[CounterKey, int]:
    """Every counter the batch's judged submits grow, summed."""
    total: dict[CounterKey, int] = {}
    for grow in grows.values():
        for key, n in grow.items():
            total[key] = total.get(key, 0) + n
    return total


def held(drafts: Sequence[Draft]) -> frozenset[int]:
    """The indexes of the held drafts of a submit (Submitted.held)."""
    return frozenset(i for i, d in enumerate(drafts) if d.status is Status.HELD)


#: A batch's submit as the counters see it: (its velocity or None, its drafts, its now).
Judged = tuple[Velocity | None, Sequence[Draft], datetime]


def plan(batch: Sequence[Judged]) -> list[int]:
    """The indexes of the batch's submits that the rules judge, in account order (their
    countries' rows are then locked in one order by every process)."""
    wanted = [(v.account_id, i) for i, (v, _, _) in enumerate(batch) if v is not None and v.rules]
    return [i for _, i in sorted(wanted)]


def outcome(
    batch: Sequence[Judged],
    new: dict[int, frozenset[str]],
    grows: dict[int, dict[CounterKey, int]],
    returned: Sequence[Sequence[Any]],
    time: Callable[[Any], datetime],
) -> dict[int, list[Draft]]:
    """Each judged submit's drafts after the rules, from the counters' answer. The batch's
    submits are counted in batch order: each is judged by the counts as they stood after
    its own messages, as if the batch's submits had come one by one (the first of a batch
    is not held for what the later ones sent)."""
    running = counts(returned, time)
    if len(grows) > 1:
        for key, n in merged(grows).items():
            running[key] = running.get(key, n) - n  # the counts before the batch
    found: dict[int, list[Draft]] = {}
    for index in sorted(grows):
        velocity, drafts, now = batch[index]
        assert velocity is not None
        if len(grows) > 1:
            for key, n in grows[index].items():
                running[key] = running.get(key, 0) + n
        found[index] = pumping.judge(drafts, velocity, new.get(index, frozenset()), running, now)
    return found


#: The rows of one statement, sent back into `judging`.
Rows = Sequence[Sequence[Any]]


def judging(
    batch: Sequence[Judged], stamp: Stamp, time: Callable[[Any], datetime]
) -> Generator[Statement, Rows, dict[int, list[Draft]]]:
    """The rules over a batch, written once for both dialects: yields each statement to run
    in the submit's transaction and is sent its rows back; returns each judged submit's
    drafts, held where a counter passed its limit. Each dialect's group commit only runs
    the statements (`stamp` writes a time, `time` reads one)."""
    wanted = plan(batch)
    if not wanted:
        return {}
    new: dict[int, frozenset[str]] = {}
    for index in wanted:
        rules, drafts, now = batch[index]
        assert rules is not None
        statement = seen(rules, drafts, now, stamp)
        if statement is not None:
            new[index] = new_countries(rules, (yield statement), now, time)
    statement = numbers(batch, stamp)
    phones: dict[int, pumping.Fresh] = {}
    if statement is not None:
        phones = fresh(batch, (yield statement))
    grows = grown(batch, new, phones)
    statement = count(merged(grows), stamp)
    if statement is None:
        return {}
    return outcome(batch, new, grows, (yield statement), time)
