"""Whose address a request is from behind proxies (api/proxies.py); the end-to-end cases,
nginx included, are in tests/acceptance/test_proxy.py."""

from __future__ import annotations

import asyncio
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


def _scheme(trusted: str, peer: str, *protos: str) -> str:
    """The scheme the application sees behind the middleware."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 5555),
        "headers": [(b"x-forwarded-proto", proto.encode()) for proto in protos],
    }

    async def receive() -> Any:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        return None

    asyncio.run(TrustedProxies(app, parse_networks(trusted))(scope, receive, send))
    return str(seen["scheme"])


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy() -> None:
    assert _scheme("10.0.0.0/8", "10.0.0.1", "https") == "https"
    assert _scheme("10.0.0.0/8", "192.0.2.1", "https") == "http"
    assert _scheme("", "10.0.0.1", "https") == "http"


def test_forwarded_proto_takes_the_nearest_proxy_and_only_http_or_https() -> None:
    assert _scheme("10.0.0.0/8", "10.0.0.1", "http, HTTPS") == "https"
    assert _scheme("10.0.0.0/8", "10.0.0.1", "https, http") == "http"
    assert _scheme("10.0.0.0/8", "10.0.0.1", "gopher") == "http"
