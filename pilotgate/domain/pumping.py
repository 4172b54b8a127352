"""SMS-pumping defence (issue 16, item 3): velocity rules on destinations.

A pumping attack sends many messages that nobody wants to numbers whose operator pays the
attacker a share: from one account (a leaked key) or one API source address (a bot on a
sign-up form), to many numbers of one small range, to sequential numbers, to a high-priced
prefix, or to countries the account never sent to. A message a rule finds suspicious is
*held* (status 4): stored, not sent, not charged, until the operator releases or rejects it.

The rules count messages in fixed windows of `Rules.window` seconds. Counters live in the
database and grow in the submit's own transaction (storage runs `increments` and `judge`
there), so every process of the gateway sees the same counts. Fixed windows are the
documented approximation of a sliding one: an attack split across a window's edge gets up
to twice a limit through before it is held (docs/decisions.md, "SMS-pumping defence").

    per submit:  increments(drafts) ──> counters += n (one statement) ──> judge(drafts, counts)

`draft_keys`, `numbers`, `increments` and `judge` state the rules message by message; the
store runs them as `domain/tally.py` does (one walk per submit, checked against these).
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from .checks import CHECK_CHANNELS
from .messages import Draft, Status

if TYPE_CHECKING:
    from .tally import Recall

#: A counter: (scope, key, window start). Scope "a<id>" is an account, "i<address>" an API
#: source address; key "r<digits>" a range, "p" high-priced destinations, "n" messages to a
#: country new to the account, "t" all the scope's messages.
CounterKey = tuple[str, str, datetime]

RANGE, PREMIUM, NEW_COUNTRY, TOTAL = "r", "p", "n", "t"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The thresholds (settings `PILOTGATE_PUMPING_*`). A limit of 0 switches its rule off."""

    #: Length of a counting window, seconds.
    window: int = 600
    #: A range is the numbers sharing their first `range_digits` digits (8 of an 11-digit
    #: Russian number: a block of 1000 numbers).
    range_digits: int = 8
    #: Distinct numbers of one range one account (or address) may send to in a window.
    range_limit: int = 10
    #: Per-part price (kopecks) from which a destination is high-priced, and how many
    #: messages to such destinations one account (or address) may send in a window.
    premium_price: int = 800
    premium_limit: int = 10
    #: Numbers in a row (…01, …02, …03) in one request that hold them all.
    sequence_run: int = 4
    #: Messages to countries new to the account in a window, and their share of all its
    #: messages in the window (percent), from which the new-country ones are held.
    new_country_limit: int = 10
    new_country_share: int = 50
    #: Countries never new (the gateway's home).
    home: frozenset[str] = frozenset({"RU"})
    #: Seconds after its first message to a country that it stops being new to an account.
    learning: int = 7 * 86400

    def __bool__(self) -> bool:
        return any(
            (self.range_limit, self.premium_limit, self.sequence_run, self.new_country_limit)
        )


#: The defaults (the settings' own), and the rules that hold nothing.
DEFAULTS = Rules()
OFF = Rules(range_limit=0, premium_limit=0, sequence_run=0, new_country_limit=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Velocity:
    """What one submit is judged by: the rules and whom its messages count against."""

    rules: Rules
    account_id: int
    #: The API source address of the request, "" when unknown (the console).
    source: str = ""
    #: What the submitting process knows of the counters (domain/tally.py); None: nothing,
    #: every statement runs.
    recall: Recall | None = dataclasses.field(default=None, compare=False, repr=False)


@functools.lru_cache(maxsize=4096)
def source_scope(address: str) -> str:
    """The API caller's address as the rules count it, "" when it is not counted: only a
    public address names one caller. Loopback and private addresses are the gateway's own
    proxies or a customer platform's LAN, in front of many callers (behind a proxy that is
    not in `trusted_proxies`, every request comes from 127.0.0.1). Cached: `is_global`
    walks the special-purpose address tables, tens of µs a request otherwise."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return ""
    return str(found) if found.is_global else ""


#: The statuses of messages the rules count. A constant: built in `watched`, the tuple cost
#: three enum lookups a call, a third of the sequence check of a 10,000-number request.
COUNTED = frozenset({Status.ACCEPTED, Status.SCHEDULED, Status.HELD})


def watched(draft: Draft) -> bool:
    """Messages the rules count: those that will go out and cost money (a number check
    costs kopecks and pays no one; test=1 never leaves the gateway)."""
    return (
        not draft.error
        and draft.status in COUNTED
        and not draft.test
        and draft.channel not in CHECK_CHANNELS
    )


def start(now: datetime, rules: Rules) -> datetime:
    """The start of the window `now` falls in (windows are aligned to the epoch)."""
    global _last_window
    last = _last_window
    if last and now.tzinfo is last[0] and rules.window == last[1] and last[2] <= now < last[3]:
        return last[2]  # a memo: the arithmetic below costs a few µs of every send
    stamp = int(now.timestamp())
    found = datetime.fromtimestamp(stamp - stamp % rules.window, tz=now.tzinfo)
    _last_window = (now.tzinfo, rules.window, found, found + timedelta(seconds=rules.window))
    return found


#: The last window `start` found: (tzinfo, length, start, end).
_last_window: tuple[tzinfo | None, int, datetime, datetime] | None = None


def _scopes(velocity: Velocity) -> list[str]:
    found = [f"a{velocity.account_id}"]
    if velocity.source:
        found.append(f"i{velocity.source}")
    return found


def draft_keys(draft: Draft, velocity: Velocity, new: bool) -> list[tuple[str, str]]:
    """The (scope, key) counters one watched draft adds to. `new`: its country is new to
    the account."""
    rules = velocity.rules
    keys = [(f"a{velocity.account_id}", TOTAL)]
    if new and rules.new_country_limit:
        keys.append((f"a{velocity.account_id}", NEW_COUNTRY))
    for scope in _scopes(velocity):
        if rules.range_limit and len(draft.phone) > rules.range_digits:
            keys.append((scope, RANGE + draft.phone[: rules.range_digits]))
        if rules.premium_limit and draft.price >= rules.premium_price * max(draft.parts, 1):
            keys.append((scope, PREMIUM))
    return keys


def foreign(drafts: Sequence[Draft], rules: Rules) -> list[str]:
    """The countries outside `rules.home` the watched drafts go to (storage asks which of
    them are new to the account)."""
    found = {d.country.upper() for d in drafts if watched(d)}
    return sorted(found - rules.home)


#: (scope, phone): a number a scope sent to for the first time in the window.
Fresh = frozenset[tuple[str, str]]


def numbers(drafts: Sequence[Draft], velocity: Velocity) -> list[tuple[str, str]]:
    """The (scope, phone) pairs the range rule remembers for the window: a range counts
    distinct numbers (an OTP asked for again does not count twice)."""
    rules = velocity.rules
    if not rules.range_limit:
        return []
    return [
        (scope, d.phone)
        for d in drafts
        if watched(d) and len(d.phone) > rules.range_digits
        for scope in _scopes(velocity)
    ]


def increments(
    drafts: Sequence[Draft],
    velocity: Velocity,
    new: frozenset[str],
    now: datetime,
    fresh: Fresh | None = None,
) -> dict[CounterKey, int]:
    """How much each counter grows by this submit. `new`: the countries new to the account;
    `fresh`: the numbers new to their scope in the window (None: all of them), the only ones
    a range counts."""
    when = start(now, velocity.rules)
    grow: Counter[CounterKey] = Counter()
    for draft in drafts:
        if watched(draft):
            for scope, key in draft_keys(draft, velocity, draft.country.upper() in new):
                if (
                    key.startswith(RANGE)
                    and fresh is not None
                    and (scope, draft.phone) not in fresh
                ):
                    continue
                grow[(scope, key, when)] += 1
    return dict(grow)


def judge(
    drafts: Sequence[Draft],
    velocity: Velocity,
    new: frozenset[str],
    counts: Mapping[CounterKey, int],
    now: datetime,
) -> list[Draft]:
    """The drafts, each one a rule finds suspicious held. `counts`: every counter of
    `increments` after this submit's messages were added."""
    rules, when = velocity.rules, start(now, velocity.rules)
    total = counts.get((f"a{velocity.account_id}", TOTAL, when), 0)
    judged = []
    for draft in drafts:
        if watched(draft) and draft.status is not Status.HELD:
            keys = draft_keys(draft, velocity, draft.country.upper() in new)
            if any(
                _over(key, counts.get((scope, key, when), 0), total, rules) for scope, key in keys
            ):
                draft = hold(draft)
        judged.append(draft)
    return judged


def _over(key: str, count: int, total: int, rules: Rules) -> bool:
    if key.startswith(RANGE):
        return count > rules.range_limit
    if key == PREMIUM:
        return count > rules.premium_limit
    if key == NEW_COUNTRY:
        return count > rules.new_country_limit and count * 100 > rules.new_country_share * total
    return False


def hold(draft: Draft) -> Draft:
    return dataclasses.replace(draft, status=Status.HELD)


def sequences(drafts: Sequence[Draft], rules: Rules) -> list[Draft]:
    """Within one request: numbers that form a run of `rules.sequence_run` or more
    consecutive numbers are all held (a list of 79991230001, …02, …03, …04)."""
    if not rules.sequence_run or len(drafts) < rules.sequence_run:
        return list(drafts)
    numbers = sorted({int(d.phone) for d in drafts if watched(d) and d.phone.isdigit()})
    suspicious: set[int] = set()
    # A run is counted, not listed: no list per number (a 10,000-number mailing would make
    # 10,000 and bring the garbage collector's next full pass nearer).
    length, last = 0, -2
    for number in [*numbers, -2]:  # -2 ends the last run
        if number == last + 1:
            length += 1
            last = number
            continue
        if length >= rules.sequence_run:
            suspicious.update(range(last - length + 1, last + 1))
        length, last = 1, number
    if not suspicious:
        return list(drafts)
    return [
        hold(d) if watched(d) and d.phone.isdigit() and int(d.phone) in suspicious else d
        for d in drafts
    ]


def charged(drafts: Sequence[Draft]) -> int:
    """What a submit debits: every price but the held messages' (charged on release)."""
    return sum(d.price for d in drafts if d.status is not Status.HELD)
