"""Which pool number a 2WAY message goes from (domain/two_way.py): the longest prefix
serving the phone, else the whole pool; a number the phone has no open conversation on
first, else the one whose conversation is the oldest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pilotgate.domain import two_way

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
POOL = [("300", "7916"), ("100", ""), ("200", "7"), ("201", "7")]


def test_the_longest_matching_prefix_serves_else_the_whole_pool() -> None:
    assert two_way.candidates("79161234567", POOL) == ["300"]
    assert two_way.candidates("79031234567", POOL) == ["200", "201"]
    assert two_way.candidates("380501234567", POOL) == ["100"]
    assert two_way.candidates("380501234567", [("200", "7"), ("300", "7916")]) == ["200", "300"]
    assert two_way.candidates("79031234567", []) == []


def test_a_phone_gets_a_number_it_has_no_open_conversation_on() -> None:
    phone = "79031234567"
    assert two_way.pick(phone, POOL, {}) == "200"
    assert two_way.pick(phone, POOL, {(phone, "200"): NOW}) == "201"
    assert two_way.pick(phone, POOL, {("79030000000", "200"): NOW}) == "200"  # another phone's
    both = {(phone, "200"): NOW, (phone, "201"): NOW - timedelta(hours=1)}
    assert two_way.pick(phone, POOL, both) == "201"  # the oldest conversation
    assert two_way.pick(phone, [], {}) is None


def test_a_route_uses_numbers_of_its_links_and_numbers_of_none() -> None:
    pool = [("100", "", ""), ("200", "", "smsc1"), ("300", "7", "smsc2")]
    assert two_way.for_route(pool, ("smsc1",)) == [("100", ""), ("200", "")]
    assert two_way.for_route(pool, ("smsc2", "relay")) == [("100", ""), ("300", "7")]
    assert two_way.for_route(pool, ()) == [("100", "")]
    assert two_way.pick("79031234567", two_way.for_route(pool, ("smsc2",)), {}) == "300"
