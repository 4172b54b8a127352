"""The SMS-pumping rules as pure functions (domain/pumping.py): which counters a message
grows, when a count holds it, a request's sequential numbers, what a submit charges."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.domain import pumping
from pilotgate.domain.messages import ALLOWED, Draft, IllegalMoveError, Status, move

NOW = datetime(2026, 3, 2, 9, 3, 20, tzinfo=UTC)
RULES = pumping.Rules(window=600, range_limit=3, premium_limit=2, premium_price=800)
VELOCITY = pumping.Velocity(rules=RULES, account_id=7, source="198.51.100.9")


def draft(phone: str, *, price: int = 450, country: str = "RU", **fields: object) -> Draft:
    values: dict[str, object] = dict(
        phone=phone, sender="INFORM", text="Code 1234", parts=1, channel="sms", price=price,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, country=country, operator="", test=False,
    )  # fmt: skip
    values.update(fields)
    return Draft(**values)  # type: ignore[arg-type]


def judged(drafts: list[Draft], counts: dict[tuple[str, str], int], new=frozenset()):
    when = pumping.start(NOW, RULES)
    full = {(scope, key, when): n for (scope, key), n in counts.items()}
    return [d.status for d in pumping.judge(drafts, VELOCITY, new, full, NOW)]


def test_windows_are_aligned_fixed_slices():
    assert pumping.start(NOW, RULES) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert pumping.start(NOW + timedelta(minutes=7), RULES) == datetime(
        2026, 3, 2, 9, 10, tzinfo=UTC
    )


def test_a_message_counts_per_account_and_per_address_by_range_and_price():
    keys = pumping.draft_keys(draft("79161234567", price=900), VELOCITY, new=False)
    assert keys == [
        ("a7", "t"),
        ("a7", "r79161234"),
        ("a7", "p"),
        ("i198.51.100.9", "r79161234"),
        ("i198.51.100.9", "p"),
    ]
    grown = pumping.increments(
        [draft("79161234567"), draft("79161234999"), draft("79167654321")], VELOCITY,
        frozenset(), NOW,
    )  # fmt: skip
    when = pumping.start(NOW, RULES)
    assert grown[("a7", "r79161234", when)] == 2
    assert grown[("a7", "t", when)] == 3


@pytest.mark.parametrize(
    "unwatched",
    [
        draft("79161234567", error=111, status=Status.ERROR, price=0),
        draft("79161234567", test=True),
        draft("79161234567", channel="hlr"),
    ],
)
def test_errors_test_messages_and_number_checks_are_not_counted(unwatched):
    assert pumping.increments([unwatched], VELOCITY, frozenset(), NOW) == {}


def test_a_range_past_its_limit_holds_its_messages_and_no_others():
    drafts = [draft("79161234567"), draft("79031112233")]
    assert judged(drafts, {("a7", "r79161234"): 3}) == [Status.ACCEPTED, Status.ACCEPTED]
    assert judged(drafts, {("a7", "r79161234"): 4}) == [Status.HELD, Status.ACCEPTED]
    # The address's own count holds as well (another account, the same bot).
    assert judged(drafts, {("i198.51.100.9", "r79031112"): 4}) == [Status.ACCEPTED, Status.HELD]


def test_high_priced_destinations_past_their_limit_are_held():
    cheap, dear = draft("79161234567"), draft("992900000001", price=890, country="TJ")
    assert judged([cheap, dear], {("a7", "p"): 3}) == [Status.ACCEPTED, Status.HELD]
    # The price is per part: a 3-part message at 450 a part is not high-priced.
    long_cheap = draft("79161234567", price=1350, parts=3)
    assert pumping.draft_keys(long_cheap, VELOCITY, new=False)[-1] != ("i198.51.100.9", "p")


def test_new_countries_are_held_past_their_limit_and_share():
    rules = dataclasses.replace(RULES, new_country_limit=2, new_country_share=50)
    velocity = dataclasses.replace(VELOCITY, rules=rules)
    when = pumping.start(NOW, rules)
    abroad = draft("37491234567", country="AM")

    def status(new_count: int, total: int) -> Status:
        counts = {("a7", "n", when): new_count, ("a7", "t", when): total}
        return pumping.judge([abroad], velocity, frozenset({"AM"}), counts, NOW)[0].status

    assert status(2, 3) is Status.ACCEPTED  # not past the limit
    assert status(3, 10) is Status.ACCEPTED  # past it, but a small share of the traffic
    assert status(3, 5) is Status.HELD
    # A country the account has long sent to is not new: not counted as such.
    assert ("a7", "n") not in pumping.draft_keys(abroad, velocity, new=False)
    assert pumping.foreign([abroad, draft("79161234567")], rules) == ["AM"]


@pytest.mark.parametrize(
    ("phones", "held"),
    [
        (["79990000001", "79990000002", "79990000003", "79990000004"], 4),
        (["79990000004", "79990000002", "79990000001", "79990000003", "79161234567"], 4),
        (["79990000001", "79990000002", "79990000003", "79990000005"], 0),
        (["79161234567", "79031112233"], 0),
        # Two runs: the first long enough, the second not; a number sent twice counts once.
        ([f"7999000000{d}" for d in "123455"] + ["79990000007", "79990000008"], 6),
        (["79990000008", "79990000009", "79990000010", "79990000011"], 4),
    ],
)
def test_a_run_of_sequential_numbers_in_one_request_is_held(phones, held):
    rules = dataclasses.replace(RULES, sequence_run=4)
    result = pumping.sequences([draft(p) for p in phones], rules)
    assert sum(d.status is Status.HELD for d in result) == held


def test_rules_switch_off_with_zero_limits():
    assert not pumping.OFF and pumping.DEFAULTS
    seq = [draft(f"7999000000{i}") for i in range(1, 8)]
    assert pumping.sequences(seq, pumping.OFF) == seq
    assert pumping.draft_keys(seq[0], dataclasses.replace(VELOCITY, rules=pumping.OFF), False) == [
        ("a7", "t")
    ]


def test_held_messages_are_not_charged_until_released():
    drafts = [draft("79161234567"), pumping.hold(draft("79161234568", price=500))]
    assert pumping.charged(drafts) == 450


def test_a_held_message_may_only_be_released_or_rejected():
    assert ALLOWED[Status.HELD] == {Status.ACCEPTED, Status.ERROR}
    assert move(Status.HELD, Status.ACCEPTED) is Status.ACCEPTED
    with pytest.raises(IllegalMoveError):
        move(Status.HELD, Status.HANDED_OVER)
    with pytest.raises(IllegalMoveError):
        move(Status.ACCEPTED, Status.HELD)  # only a submit holds a message


@pytest.mark.parametrize(
    ("address", "counted"),
    [("198.51.100.9", ""), ("8.8.8.8", "8.8.8.8"), ("127.0.0.1", ""), ("10.1.2.3", ""),
     ("2a00:1450::1", "2a00:1450::1"), ("::1", ""), ("", ""), ("not-an-ip", "")],
)  # fmt: skip
def test_only_public_addresses_are_counted(address, counted):
    # 198.51.100.0/24 is documentation space: not global either.
    assert pumping.source_scope(address) == counted
