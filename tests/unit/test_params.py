from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.domain import params
from pilotgate.errors import ApiError

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def code(func, *args):
    with pytest.raises(ApiError) as caught:
        func(*args)
    return caught.value.code


def test_send_datetime_forms():
    assert params.send_datetime("2026-11-22 13:00:00", NOW) == NOW + timedelta(hours=1)
    assert params.send_datetime(str(int((NOW + timedelta(hours=2)).timestamp())), NOW) == (
        NOW + timedelta(hours=2)
    )
    assert params.send_datetime("2026-11-22 11:59:30", NOW) is None  # recent past: send now


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-22 11:58:00",
        "yesterday",
        "2028-01-01 00:00:00",
        "2026-13-01 00:00:00",
        "99999999999999999999",
    ],
)
def test_bad_send_datetime_is_250(value):
    assert code(params.send_datetime, value, NOW) == 250


@pytest.mark.parametrize("value", ["0", "1441", "-5", "abc", "1.5", "٣"])
def test_bad_ttl_is_270(value):
    assert code(params.ttl, value) == 270


def test_ttl_bounds():
    assert params.ttl("1") == 1
    assert params.ttl("1440") == 1440


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/x",
        "http://",
        "javascript:alert(1)",
        "http://exa mple.com/",
        "http://example.com:99999/",
    ],
)
def test_bad_callback_is_260(url):
    assert code(params.callback_url, url) == 260


def test_callback_accepts_basic_auth_and_query():
    url = "https://user:pw@example.com/sms-status.php?fields=message,modified"
    assert params.callback_url(url) == url
    assert params.callback_method("POST") == "post"
    assert params.callback_method("") == "get"
    assert code(params.callback_method, "put") == 260


def test_fields():
    assert params.fields("") == params.DEFAULT_FIELDS
    assert params.fields("all") == params.ALL_FIELDS
    assert params.fields("phone, status,phone") == ("phone", "status")
    assert code(params.fields, "phone,nonsense") == 275


@pytest.mark.parametrize(
    ("ip", "allow", "ok"),
    [
        ("10.1.2.3", "", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "192.168.0.1, 10.1.2.3", True),
        ("10.1.2.4", "10.1.2.3", False),
        ("::1", "127.0.0.1", False),
        ("not-an-ip", "127.0.0.1", False),
    ],
)
def test_ip_allow_list(ip, allow, ok):
    assert params.ip_allowed(ip, allow) is ok


def test_bad_networks_names_each_bad_entry():
    assert params.bad_networks("10.0.0.0/8, 127.0.0.1,,::1") == []
    assert params.bad_networks("10.0.0.0/8, nonsense, 300.1.1.1") == ["nonsense", "300.1.1.1"]
