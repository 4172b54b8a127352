from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from pilotgate.domain import addresses, callbacks
from pilotgate.domain.messages import Message, Status

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def message(**changes) -> Message:
    fields: dict[str, Any] = dict(
        server_id=10001,
        packet_id=10001,
        account_id=1,
        phone="79087964781",
        sender="INFORM",
        sender_orig="",
        text="Привет & bye",
        parts=1,
        channel="sms",
        price=395,
        status=Status.DELIVERED,
        error=0,
        send_datetime=None,
        ttl=None,
        callback=None,
        callback_method=None,
        created=NOW,
        modified=NOW,
        country="RU",
        operator="Tele2",
        test=False,
    )
    fields.update(changes)
    return Message(**fields)


def test_get_keeps_the_urls_own_params_adds_asked_fields_and_signs_the_query():
    url = "https://user:p%40ss@example.com:8443/sms-status.php?fields=message,modified&shop=7"
    fields = callbacks.extra_fields(url)
    assert fields == ("message", "modified")
    request = callbacks.build(url, "get", callbacks.status_params(message(), 2, 0, fields), "k")
    parts = urlsplit(request.url)
    assert (request.method, parts.hostname, parts.port, parts.username) == (
        "GET",
        "example.com",
        8443,
        None,
    )
    assert parse_qsl(parts.query) == [
        ("shop", "7"),
        ("server_id", "10001"),
        ("phone", "79087964781"),
        ("status", "2"),
        ("error", "0"),
        ("message", "Привет & bye"),
        ("modified", "2026-11-22 12:00:00"),
    ]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"user:p@ss").decode()
    expected = hmac.new(b"k", parts.query.encode(), hashlib.sha256).hexdigest()
    assert request.headers["X-PilotGate-Signature"] == expected


def test_post_sends_a_form_body_with_error_texts_and_signs_the_body():
    request = callbacks.build(
        "http://example.com/cb", "post", callbacks.status_params(message(), -1, 601, ()), "k"
    )
    assert request.method == "POST"
    assert request.url == "http://example.com/cb"
    assert dict(parse_qsl(request.body.decode())) == {
        "server_id": "10001",
        "phone": "79087964781",
        "status": "-1",
        "error": "601",
        "error_en": "Undeliverable",
        "error_ru": "Невозможно доставить",
    }
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["X-PilotGate-Signature"] == callbacks.sign("k", request.body)


def test_fields_all_adds_every_extra():
    assert callbacks.extra_fields("http://x.example/?fields=all") == callbacks.EXTRA_FIELDS
    assert callbacks.extra_fields("http://x.example/?fields=nonsense,price") == ("price",)


def test_backoff_doubles_from_ten_seconds_up_to_the_cap_then_gives_up():
    policy = callbacks.RetryPolicy()
    attempts = [callbacks.next_attempt(n, NOW, NOW, policy) for n in range(1, 12)]
    delays = [when - NOW for when in attempts if when is not None]
    assert len(delays) == len(attempts)
    assert delays[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert max(delays) == timedelta(hours=1)
    assert callbacks.next_attempt(3, NOW - timedelta(hours=25), NOW, policy) is None
    assert callbacks.next_attempt(3, NOW - timedelta(hours=23), NOW, policy) is not None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "garbage",
    ],
)
def test_internal_addresses_are_forbidden(address):
    assert addresses.forbidden(address)


def test_public_addresses_pass_and_the_operator_can_allow_networks():
    assert not addresses.forbidden("93.184.216.34")
    assert not addresses.forbidden("2606:2800:220:1:248:1893:25c8:1946")
    allowed = addresses.networks("127.0.0.0/8, 10.9.0.0/16")
    assert not addresses.forbidden("127.0.0.1", allowed)
    assert not addresses.forbidden("10.9.1.1", allowed)
    assert addresses.forbidden("10.8.1.1", allowed)
    with pytest.raises(ValueError):
        addresses.networks("not-a-network")
