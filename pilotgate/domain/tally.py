"""The SMS-pumping rules' per-submit work, done once per submit (domain/pumping.py states
the rules; this is what the store's group commit runs, storage/sql/velocity.py).

The rules cost a send path that does little else: a first version walked each submit's
drafts five times (which counters, which numbers, which are fresh, how much they grow,
which are over) and wrote two rows per number. Here one walk makes a `Tally`; everything
after works on it. And a `Recall` per process keeps what needs no statement:

    numbers known stored in the window ──> not sent again (the row is there: exact)
    the account's total, owed ─────────> written with the next statement, or after 1 s

A big request (more than `BULK_RANGES` ranges) counts only the ranges it sends two or more
numbers to: its single numbers of a range are neither remembered nor counted (a 10,000-number
mailing would otherwise write 20,000 rows; docs/decisions.md, "SMS-pumping defence: cost").
A draft no rule can hold (its range not counted, not high-priced, to a home country) only
adds one to the account's total: it makes no `Mark`, so such a mailing makes no object per
number (each one also brings the garbage collector's next full pass, tens of ms, nearer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .checks import CHECK_CHANNELS
from .messages import Draft, Status
from .pumping import (
    COUNTED,
    NEW_COUNTRY,
    PREMIUM,
    RANGE,
    TOTAL,
    CounterKey,
    Velocity,
    hold,
    start,
)

#: Past this many distinct ranges in one request, its ranges of one number are not counted.
BULK_RANGES = 1000
#: The longest the account's total waits in a process before it is written.
OWED_FOR = timedelta(seconds=1)
#: The most numbers a process remembers as stored (memory stays bounded under any traffic).
KNOWN_MAX = 200_000


#: One watched draft a rule may hold, as the counters see it: (its index in the submit, its
#: phone, its range's counter key "r<digits>" or "" when its range is not counted, whether
#: it is high-priced, its country in upper case). A plain tuple: a class's constructor
#: costs a Python call each.
Mark = tuple[int, str, str, bool, str]


@dataclass(slots=True)
class Tally:
    """One submit's watched drafts, walked once."""

    velocity: Velocity
    when: datetime  # its window's start
    account: str  # "a<id>"
    scopes: tuple[str, ...]
    total: int  # its watched drafts
    marks: list[Mark]  # those of them a rule may hold
    foreign: list[str]  # its countries outside the home set, sorted

    def numbers(self) -> list[tuple[str, str]]:
        """(scope, phone) of the numbers its counted ranges remember."""
        return [(s, phone) for _, phone, rng, _, _ in self.marks if rng for s in self.scopes]

    def increments(
        self, new: frozenset[str], fresh: frozenset[tuple[str, str]] | set[tuple[str, str]]
    ) -> dict[CounterKey, int]:
        """How much each counter grows: `new` the countries new to the account, `fresh` the
        numbers new to their scope in the window (only those grow a range)."""
        if not self.total:
            return {}
        when, grow = self.when, {(self.account, TOTAL, self.when): self.total}
        if new and self.velocity.rules.new_country_limit:
            n = sum(1 for m in self.marks if m[4] in new)
            if n:
                grow[(self.account, NEW_COUNTRY, when)] = n
        premium = sum(1 for m in self.marks if m[3])
        for scope in self.scopes:
            if fresh:
                for _, phone, rng, _, _ in self.marks:
                    if rng and (scope, phone) in fresh:
                        key = (scope, rng, when)
                        grow[key] = grow.get(key, 0) + 1
            if premium:
                grow[(scope, PREMIUM, when)] = premium
        return grow

    def judge(
        self, drafts: Sequence[Draft], new: frozenset[str], counts: Mapping[CounterKey, int]
    ) -> list[Draft]:
        """The drafts, those a counter past its limit finds suspicious held. `counts`: the
        counters as they stood after this submit's messages (a counter absent: not grown)."""
        rules, when = self.velocity.rules, self.when
        over = set()
        for (scope, key, at), n in counts.items():
            if at != when or scope not in self.scopes:
                continue
            if key.startswith(RANGE) and n > rules.range_limit:
                over.add((scope, key))
            elif key == PREMIUM and n > rules.premium_limit:
                over.add((scope, key))
        total = counts.get((self.account, TOTAL, when), 0)
        novel = counts.get((self.account, NEW_COUNTRY, when), 0)
        too_novel = bool(new) and (
            novel > rules.new_country_limit and novel * 100 > rules.new_country_share * total
        )
        if not over and not too_novel:
            return list(drafts)
        judged = list(drafts)
        for index, _, rng, premium, country in self.marks:
            if judged[index].status is Status.HELD:
                continue
            if (too_novel and country in new) or any(
                (rng and (s, rng) in over) or (premium and (s, PREMIUM) in over)
                for s in self.scopes
            ):
                judged[index] = hold(judged[index])
        return judged


def tally(drafts: Sequence[Draft], velocity: Velocity, now: datetime) -> Tally:
    rules = velocity.rules
    account = f"a{velocity.account_id}"
    scopes = (account, f"i{velocity.source}") if velocity.source else (account,)
    digits = rules.range_digits if rules.range_limit else 0
    priced = rules.premium_price if rules.premium_limit else -1  # -1: none is high-priced
    home = rules.home if rules.new_country_limit else None  # None: no country is new
    big = bool(digits) and len(drafts) > BULK_RANGES  # its lone ranges may not count
    upper: dict[str, str] = {}
    first: dict[str, str] = {}  # big: a phone of each range it sends to
    several: set[str] = set()  # big: its ranges of two numbers or more
    ranged: list[int] = []  # big: drafts only their range may hold, until it is known
    marks: list[Mark] = []
    total = 0
    for index, d in enumerate(drafts):
        if d.error or d.test or d.status not in COUNTED or d.channel in CHECK_CHANNELS:
            continue
        total += 1
        country = upper.get(d.country) or upper.setdefault(d.country, d.country.upper())
        phone = d.phone
        prefix = phone[:digits] if digits and len(phone) > digits else ""
        premium = priced >= 0 and d.price >= priced * max(d.parts, 1)
        if big and prefix and first.setdefault(prefix, phone) != phone:
            several.add(prefix)
        if premium or (home is not None and country not in home) or (prefix and not big):
            marks.append((index, phone, RANGE + prefix if prefix else "", premium, country))
        elif prefix:
            ranged.append(index)
    if big:
        marks = _big_request(drafts, digits, marks, ranged, (first, several), upper)
    foreign = sorted(set(upper.values()) - rules.home) if home is not None else []
    return Tally(velocity, start(now, rules), account, scopes, total, marks, foreign)


def _big_request(
    drafts: Sequence[Draft],
    digits: int,
    marks: list[Mark],
    ranged: list[int],
    ranges: tuple[dict[str, str], set[str]],
    upper: dict[str, str],
) -> list[Mark]:
    """A big request's marks once its ranges are known: past `BULK_RANGES` ranges, those
    it sends one number to are not counted, else all are. One phone kept per range, not a
    set each: a mailing's ranges are mostly of one number."""
    first, several = ranges
    if len(first) > BULK_RANGES:
        marks = [m if m[2][len(RANGE) :] in several else (*m[:2], "", *m[3:]) for m in marks]
        ranged = [i for i in ranged if drafts[i].phone[:digits] in several] if several else []
    for index in ranged:
        d = drafts[index]
        marks.append((index, d.phone, RANGE + d.phone[:digits], False, upper[d.country]))
    marks.sort()
    return marks


@dataclass(slots=True)
class Recall:
    """What one process (one gateway) knows of the counters, to spare statements: the
    numbers it saw already stored in the current window, and the account totals it owes."""

    window: datetime | None = None
    known: set[tuple[str, str]] = field(default_factory=set)
    owed: dict[CounterKey, int] = field(default_factory=dict)
    owed_since: datetime | None = None

    def unknown(self, when: datetime, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The (scope, phone) pairs not known stored in window `when`."""
        if when != self.window:
            return list(pairs)
        known = self.known
        return [p for p in pairs if p not in known]

    def learn(self, when: datetime, stored: Iterable[tuple[str, str]]) -> None:
        """Numbers a statement found already stored (committed: a row cannot leave its
        window before the window ends)."""
        if self.window is None or when > self.window:
            self.window, self.known = when, set()
        if when == self.window and len(self.known) < KNOWN_MAX:
            self.known.update(stored)

    def owe(self, grow: Mapping[CounterKey, int], now: datetime) -> None:
        for key, n in grow.items():
            self.owed[key] = self.owed.get(key, 0) + n
        if self.owed_since is None:
            self.owed_since = now

    def due(self, now: datetime) -> bool:
        return self.owed_since is not None and now - self.owed_since >= OWED_FOR

    def settle(self) -> dict[CounterKey, int]:
        owed, self.owed, self.owed_since = self.owed, {}, None
        return owed
