"""The SMS-pumping rules' one walk per submit (domain/tally.py): it counts and holds as the
rules state them (domain/pumping.py), a big request's lone numbers per range are not
counted, and a process's `Recall` remembers stored numbers and owes totals for 1 s at most."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

from pilotgate.domain import pumping, tally
from pilotgate.domain.messages import Status

from .test_pumping import NOW, RULES, VELOCITY, draft

WHEN = pumping.start(NOW, RULES)


def test_the_walk_counts_and_holds_as_the_rules_state():
    rng = random.Random(5)
    rules = dataclasses.replace(RULES, new_country_limit=2)
    velocity = dataclasses.replace(VELOCITY, rules=rules)
    for _ in range(200):
        drafts = [
            draft(
                f"7916123{rng.randrange(40):04d}",
                price=rng.choice([450, 900]),
                country=rng.choice(["RU", "RU", "AM"]),
                status=rng.choice([Status.ACCEPTED, Status.HELD, Status.ACCEPTED]),
                test=rng.random() < 0.1,
            )
            for _ in range(rng.randrange(1, 12))
        ]
        new = frozenset(rng.choice([set(), {"AM"}]))
        fresh = {("a7", d.phone) for d in drafts if rng.random() < 0.7}
        fresh |= {("i198.51.100.9", p) for _, p in fresh}
        walked = tally.tally(drafts, velocity, NOW)
        grown = pumping.increments(drafts, velocity, new, NOW, frozenset(fresh))
        assert walked.increments(new, fresh) == grown
        counts = {key: n + rng.randrange(4) for key, n in grown.items()}
        assert walked.judge(drafts, new, counts) == pumping.judge(
            drafts, velocity, new, counts, NOW
        )


def test_a_big_request_counts_only_the_ranges_it_sends_two_numbers_to():
    lone = [draft(f"79{n:06d}123") for n in range(tally.BULK_RANGES + 1)]
    pair = [draft("79161234001"), draft("79161234002")]
    walked = tally.tally(lone + pair, VELOCITY, NOW)
    assert set(walked.numbers()) == {
        (scope, d.phone) for d in pair for scope in ("a7", "i198.51.100.9")
    }
    # A request of as many numbers in fewer ranges counts every one.
    few = [draft(f"7916{n % 500:04d}{n:03d}") for n in range(tally.BULK_RANGES + 1)]
    assert len(tally.tally(few, VELOCITY, NOW).numbers()) == 2 * len(few)


def test_a_big_mailing_still_counts_every_message_and_holds_what_a_rule_finds():
    # Any share of new countries holds them past the limit (the mailing dwarfs them).
    rules = dataclasses.replace(RULES, new_country_limit=1, new_country_share=0)
    velocity = dataclasses.replace(VELOCITY, rules=rules)
    lone = [draft(f"79{n:06d}123") for n in range(tally.BULK_RANGES + 1)]
    premium = [draft(f"79{n:06d}456", price=900) for n in (1, 2, 3)]
    abroad = [draft("37491234567", country="AM"), draft("37491234568", country="AM")]
    drafts = premium[:1] + lone + premium[1:] + abroad
    walked = tally.tally(drafts, velocity, NOW)
    grown = walked.increments(frozenset({"AM"}), set())
    assert grown == {
        ("a7", pumping.TOTAL, WHEN): len(drafts),
        ("a7", pumping.NEW_COUNTRY, WHEN): 2,
        ("a7", pumping.PREMIUM, WHEN): 3,
        ("i198.51.100.9", pumping.PREMIUM, WHEN): 3,
    }
    statuses = [d.status for d in walked.judge(drafts, frozenset({"AM"}), grown)]
    suspicious = {0, len(drafts) - 4, len(drafts) - 3, len(drafts) - 2, len(drafts) - 1}
    assert [i for i, s in enumerate(statuses) if s is Status.HELD] == sorted(suspicious)


def test_a_process_remembers_numbers_stored_in_the_current_window_only():
    recall = tally.Recall()
    pairs = [("a7", "79161234001"), ("a7", "79161234002")]
    assert recall.unknown(WHEN, pairs) == pairs
    recall.learn(WHEN, pairs[:1])
    assert recall.unknown(WHEN, pairs) == pairs[1:]
    later = WHEN + timedelta(seconds=RULES.window)
    assert recall.unknown(later, pairs) == pairs
    recall.learn(later, [])
    assert recall.unknown(WHEN, pairs) == pairs  # the old window is forgotten


def test_owed_totals_fall_due_after_a_second():
    recall = tally.Recall()
    key = ("a7", pumping.TOTAL, WHEN)
    recall.owe({key: 2}, NOW)
    recall.owe({key: 3}, NOW + timedelta(milliseconds=500))
    assert not recall.due(NOW + timedelta(milliseconds=999))
    assert recall.due(NOW + tally.OWED_FOR)
    assert recall.settle() == {key: 5}
    assert recall.settle() == {} and not recall.due(NOW + timedelta(hours=1))
