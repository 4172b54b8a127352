from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pilotgate.domain import routing
from pilotgate.domain.routing import Route, RoutingTable

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _connectors(table: RoutingTable, phone: str, channel: str) -> tuple[str, ...]:
    route = table.route(phone, channel)
    assert route is not None, (phone, channel)
    return route.connectors


def test_longest_prefix_wins_and_all_serves_channels_without_their_own_route():
    table = RoutingTable(
        [
            Route(prefix="", channel="all", connectors=("emulator",)),
            Route(prefix="7", channel="sms", connectors=("mts", "backup")),
            Route(prefix="7916", channel="sms", connectors=("beeline",)),
            Route(prefix="7916", channel="all", connectors=("voice-gw",)),
        ]
    )
    assert _connectors(table, "79161234567", "sms") == ("beeline",)
    assert _connectors(table, "79081234567", "sms") == ("mts", "backup")
    assert _connectors(table, "79161234567", "voice") == ("voice-gw",)
    assert _connectors(table, "375291234567", "sms") == ("emulator",)
    assert (
        RoutingTable([Route(prefix="7", channel="sms", connectors=("a",))]).route(
            "375291234567", "sms"
        )
        is None
    )


def test_first_usable_connector_is_chosen_in_route_order():
    assert routing.choose(("a", "b", "c"), {"b", "c"}) == "b"
    assert routing.choose(("a",), {"b"}) is None
    assert routing.parse_connectors(" a, b ,,c") == ("a", "b", "c")


def test_token_bucket_refills_at_the_rate_and_holds_one_second():
    granted, left = routing.grant(0, None, NOW, 10, 25)  # a fresh bucket is full
    assert (granted, left) == (10, 0)
    granted, left = routing.grant(left, NOW, NOW + timedelta(milliseconds=300), 10, 25)
    assert (granted, left) == (3, 0)
    granted, left = routing.grant(left, NOW, NOW + timedelta(milliseconds=150), 10, 1)
    assert (granted, left) == (1, 500)  # 1.5 refilled, one taken, half a message left
    granted, left = routing.grant(0, NOW, NOW + timedelta(hours=1), 10, 100)
    assert granted == 10  # never more than one second's worth at once
    assert routing.grant(0, None, NOW, 0, 1234) == (1234, 0)  # 0 = unlimited
