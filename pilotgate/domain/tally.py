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
from .pumping import NEW_COUNTRY, PREMIUM, RANGE, TOTAL, CounterKey, Velocity, hold, start

#: Past this many distinct ranges in one request, its ranges of one number are not counted.
BULK_RANGES = 1000
#: The longest the account's total waits in a process before it is written.
OWED_FOR = timedelta(seconds=1)
#: The most numbers a process remembers as stored (memory stays bounded under any traffic).
KNOWN_MAX = 200_000

_COUNTED = (Status.ACCEPTED, Status.SCHEDULED, Status.HELD)


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
    upper: dict[str, str] = {}
    watched: list[int] = []
    for index, d in enumerate(drafts):
        if d.error or d.test or d.status not in _COUNTED or d.channel in CHECK_CHANNELS:
            continue
        watched.append(index)
        if d.country not in upper:
            upper[d.country] = d.country.upper()
    foreign = set(upper.values()) - rules.home if rules.new_country_limit else set()
    counted = _counted_ranges(drafts, watched, digits) if len(watched) > BULK_RANGES else None
    marks: list[Mark] = []
    for index in watched:
        d = drafts[index]
        phone = d.phone
        prefix = phone[:digits] if digits and len(phone) > digits else ""
        if prefix and counted is not None and prefix not in counted:
            prefix = ""
        premium = priced >= 0 and d.price >= priced * max(d.parts, 1)
        country = upper[d.country]
        if prefix or premium or country in foreign:
            marks.append((index, phone, RANGE + prefix if prefix else "", premium, country))
    return Tally(velocity, start(now, rules), account, scopes, len(watched), marks, sorted(foreign))


def _counted_ranges(drafts: Sequence[Draft], watched: list[int], digits: int) -> set[str] | None:
    """A big request's ranges (their first digits) that count: those it sends two or more
    distinct numbers to when it sends to more than `BULK_RANGES` ranges, else None (all).
    One phone kept per range, not a set each: a mailing's ranges are mostly of one."""
    if not digits:
        return None
    first: dict[str, str] = {}
    several: set[str] = set()
    for index in watched:
        phone = drafts[index].phone
        if len(phone) > digits:
            prefix = phone[:digits]
            if first.setdefault(prefix, phone) != phone:
                several.add(prefix)
    return several if len(first) > BULK_RANGES else None


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
