"""Whose address a request is from behind proxies (api/proxies.py); the end-to-end cases,
nginx included, are in tests/acceptance/test_proxy.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pilotgate import config
from pilotgate.api.proxies import TrustedProxies, parse_networks
from pilotgate.errors import ConfigError


async def _app(scope: Any, receive: Any, send: Any) -> None:
    return None


def _client(trusted: str, peer: str, *headers: tuple[str, str]) -> str | None:
    proxies = TrustedProxies(_app, parse_networks(trusted))
    scope = {
        "type": "http",
        "client": (peer, 5555),
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }
    return proxies.client_of(scope)


def test_a_malformed_setting_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match=r"'10\.0\.0\.300'"):
        parse_networks("10.0.0.1, 10.0.0.300")


def test_nothing_is_believed_without_trusted_proxies() -> None:
    assert _client("", "10.0.0.1", ("x-forwarded-for", "1.2.3.4")) is None


def test_the_rightmost_untrusted_hop_across_several_headers() -> None:
    hops = ("x-forwarded-for", "9.9.9.9, 1.2.3.4"), ("x-forwarded-for", "10.0.0.2")
    assert _client("10.0.0.0/8", "10.0.0.1", *hops) == "1.2.3.4"


def test_all_hops_trusted_gives_the_leftmost() -> None:
    assert _client("10.0.0.0/8", "10.0.0.1", ("x-forwarded-for", "10.1.1.1, 10.2.2.2")) == (
        "10.1.1.1"
    )


def test_a_hop_that_is_no_address_stops_the_walk() -> None:
    assert _client("10.0.0.0/8", "10.0.0.1", ("x-forwarded-for", "unknown")) is None
    assert _client("10.0.0.0/8", "10.0.0.1", ("x-forwarded-for", "1.2.3.4, junk")) is None


def test_a_mapped_ipv4_peer_matches_an_ipv4_setting() -> None:
    real = ("x-real-ip", "2001:db8::7")
    assert _client("127.0.0.1", "::ffff:127.0.0.1", real) == "2001:db8::7"


def test_the_setting_may_be_a_toml_list(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('trusted_proxies = ["10.0.0.5", "192.168.0.0/24"]\n', encoding="utf-8")
    settings = config.load(environ={}, path=path)
    assert parse_networks(settings.trusted_proxies) == parse_networks("10.0.0.5,192.168.0.0/24")
