"""The SMS-pumping defence's counters (migration 0021_pumping, domain/pumping.py), grown in
the submit's own transaction by each dialect's group commit: the statements are written
once here, with `%s` placeholders and times converted by the caller's `stamp`.

A batch's counters are grown before any account row is locked, all in one statement with
its rows in one order: two processes' batches then take the counter rows in the same order,
and no counter waits on an account row (no deadlock with the caps and the debit). A submit
refused later (112, 223) leaves its counts grown: they are what was attempted.

Each submit is walked once (domain/tally.py); statements no rule needs are not run: no
foreign country, no account_countries statement; numbers the process saw stored in the
window are not inserted again; the account's total waits in the process (its `Recall`)
for the next statement, or 1 s (docs/decisions.md, "SMS-pumping defence: cost")."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pilotgate.domain.messages import Draft, Status
from pilotgate.domain.pumping import TOTAL, CounterKey, Velocity
from pilotgate.domain.tally import Recall, Tally, tally

Stamp = Callable[[datetime], Any]
#: (sql, args) of one statement.
Statement = tuple[str, list[Any]]
#: A batch's submit as the counters see it: (its velocity or None, its drafts, its now).
Judged = tuple[Velocity | None, Sequence[Draft], datetime]
#: The rows of one statement, sent back into `judging`.
Rows = Sequence[Sequence[Any]]


def seen(t: Tally, now: datetime, stamp: Stamp) -> Statement | None:
    """Record the foreign countries the drafts go to; RETURNING each one's first use."""
    if not t.foreign:
        return None
    values = ", ".join(["(%s, %s, %s)"] * len(t.foreign))
    args: list[Any] = []
    for country in t.foreign:
        args += [t.velocity.account_id, country, stamp(now)]
    return (
        f"INSERT INTO account_countries (account_id, country, first_seen) VALUES {values} "
        "ON CONFLICT (account_id, country) DO UPDATE SET first_seen = account_countries.first_seen "
        "RETURNING country, first_seen",
        args,
    )


def new_countries(
    t: Tally, returned: Rows, now: datetime, time: Callable[[Any], datetime]
) -> frozenset[str]:
    """The countries of `seen`'s answer still new to the account."""
    since = now - timedelta(seconds=t.velocity.rules.learning)
    return frozenset(str(country) for country, first in returned if time(first) > since)


def count(grow: dict[CounterKey, int], stamp: Stamp) -> Statement:
    """Grow the counters; RETURNING each one's count after."""
    keys = sorted(grow)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(keys))
    stamps: dict[datetime, Any] = {}
    args: list[Any] = []
    for key in keys:
        scope, name, start = key
        if start not in stamps:
            stamps[start] = stamp(start)
        args += [scope, name, stamps[start], grow[key]]
    return (
        f"INSERT INTO velocity_counts (scope, key, start, count) VALUES {values} "
        "ON CONFLICT (scope, key, start) DO UPDATE "
        "SET count = velocity_counts.count + excluded.count RETURNING scope, key, start, count",
        args,
    )


def numbers(rows: set[tuple[str, str, datetime]], stamp: Stamp) -> Statement:
    """Remember numbers in their window; RETURNING those that were new there."""
    ordered = sorted(rows)
    values = ", ".join(["(%s, %s, %s)"] * len(ordered))
    stamps: dict[datetime, Any] = {}
    args: list[Any] = []
    for scope, phone, when in ordered:
        if when not in stamps:
            stamps[when] = stamp(when)
        args += [scope, phone, stamps[when]]
    return (
        f"INSERT INTO velocity_numbers (scope, phone, start) VALUES {values} "
        "ON CONFLICT (scope, phone, start) DO NOTHING RETURNING scope, phone",
        args,
    )


def asked(tallies: dict[int, Tally]) -> set[tuple[str, str, datetime]]:
    """The numbers the batch's submits remember that their process does not know stored."""
    rows: set[tuple[str, str, datetime]] = set()
    for t in tallies.values():
        pairs = t.numbers()
        recall = t.velocity.recall
        if recall is not None:
            pairs = recall.unknown(t.when, pairs)
        rows.update((scope, phone, t.when) for scope, phone in pairs)
    return rows


def fresh(
    tallies: dict[int, Tally], returned: Rows, rows: set[tuple[str, str, datetime]]
) -> dict[int, set[tuple[str, str]]]:
    """Each submit's numbers new in the window (`numbers`' answer): a number two submits of
    the batch send to is new to the first one only. The numbers found stored already are
    learnt by the submits' processes (when the batch is of one window: the answer names no
    window)."""
    new = {(str(scope), str(phone)) for scope, phone in returned}
    left = set(new)
    found: dict[int, set[tuple[str, str]]] = {}
    for index in sorted(tallies):
        mine = {pair for pair in tallies[index].numbers() if pair in left}
        left -= mine
        found[index] = mine
    windows = {when for _, _, when in rows}
    if len(windows) == 1:
        (when,) = windows
        stored = {(scope, phone) for scope, phone, _ in rows} - new
        recalls = {id(r): r for t in tallies.values() if (r := t.velocity.recall) is not None}
        for recall in recalls.values():
            recall.learn(when, stored)
    return found


def held(drafts: Sequence[Draft]) -> frozenset[int]:
    """The indexes of the held drafts of a submit (Submitted.held)."""
    return frozenset(i for i, d in enumerate(drafts) if d.status is Status.HELD)


def plan(batch: Sequence[Judged]) -> list[int]:
    """The indexes of the batch's submits that the rules judge, in account order (their
    countries' rows are then locked in one order by every process)."""
    wanted = [(v.account_id, i) for i, (v, _, _) in enumerate(batch) if v is not None and v.rules]
    return [i for _, i in sorted(wanted)]


def written(
    tallies: dict[int, Tally], grows: dict[int, dict[CounterKey, int]], latest: datetime
) -> dict[CounterKey, int]:
    """What the counters statement writes ({}: no statement). A submit's account total is
    owed to its process's `Recall` unless a statement runs anyway: it is read only by the
    new-country rule, whose own counter growing makes one run."""
    total: dict[CounterKey, int] = {}
    recalls: dict[int, Recall] = {}
    for index, grow in grows.items():
        recall = tallies[index].velocity.recall
        for key, n in grow.items():
            if recall is not None and key[1] == TOTAL:
                recall.owe({key: n}, latest)
                recalls[id(recall)] = recall
            else:
                total[key] = total.get(key, 0) + n
    for recall in recalls.values():
        if total or recall.due(latest):
            for key, n in recall.settle().items():
                total[key] = total.get(key, 0) + n
    return total


def outcome(
    tallies: dict[int, Tally],
    batch: Sequence[Judged],
    new: dict[int, frozenset[str]],
    grows: dict[int, dict[CounterKey, int]],
    returned: Rows,
    time: Callable[[Any], datetime],
) -> dict[int, list[Draft]]:
    """Each judged submit's drafts after the rules, from the counters' answer. The batch's
    submits are counted in batch order: each is judged by the counts as they stood after
    its own messages, as if the batch's submits had come one by one (the first of a batch
    is not held for what the later ones sent)."""
    running = {(str(s), str(k), time(at)): int(n) for s, k, at, n in returned}
    if len(grows) > 1:
        for grow in grows.values():
            for key, n in grow.items():
                if key in running:
                    running[key] -= n  # the counts before the batch
    found: dict[int, list[Draft]] = {}
    for index in sorted(grows):
        if len(grows) > 1:
            for key, n in grows[index].items():
                if key in running:
                    running[key] += n
        drafts = batch[index][1]
        found[index] = tallies[index].judge(drafts, new.get(index, frozenset()), running)
    return found


def judging(
    batch: Sequence[Judged], stamp: Stamp, time: Callable[[Any], datetime]
) -> Generator[Statement, Rows, dict[int, list[Draft]]]:
    """The rules over a batch, written once for both dialects: yields each statement to run
    in the submit's transaction and is sent its rows back; returns each judged submit's
    drafts, held where a counter passed its limit. Each dialect's group commit only runs
    the statements (`stamp` writes a time, `time` reads one)."""
    tallies: dict[int, Tally] = {}
    for index in plan(batch):
        velocity, drafts, now = batch[index]
        assert velocity is not None
        tallies[index] = tally(drafts, velocity, now)
    if not tallies:
        return {}
    new: dict[int, frozenset[str]] = {}
    for index, t in tallies.items():
        statement = seen(t, batch[index][2], stamp)
        if statement is not None:
            new[index] = new_countries(t, (yield statement), batch[index][2], time)
    rows = asked(tallies)
    phones: dict[int, set[tuple[str, str]]] = {}
    if rows:
        phones = fresh(tallies, (yield numbers(rows, stamp)), rows)
    grows = {
        index: t.increments(new.get(index, frozenset()), phones.get(index, set()))
        for index, t in tallies.items()
    }
    grows = {index: grow for index, grow in grows.items() if grow}
    grow = written(tallies, grows, max(batch[index][2] for index in tallies))
    if not grow:
        return {}
    return outcome(tallies, batch, new, grows, (yield count(grow, stamp)), time)
