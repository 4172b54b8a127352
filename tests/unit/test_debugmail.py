"""Debug mail rules: acceptable addresses, masking, the mail itself, the rate window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotgate.domain import debugmail

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["dev@example.com", "a.b+tag@mail.example.co.uk", " x@y.ru "])
def test_plain_addresses_are_accepted(raw):
    assert debugmail.address(raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "dev@example.com\r\nBcc: victim@example.org",
        "dev@example.com\nBcc: victim@example.org",
        "dev@example.com\r",
        "a@example.com,b@example.org",
        "a@example.com;b@example.org",
        "a@example.com b@example.org",
        "Dev <dev@example.com>",
        '"dev"@example.com',
        "dev(comment)@example.com",
        "dev@example",
        "dev@@example.com",
        "dev@-example.com",
        "dev@example.com.",
        ".dev@example.com",
        "dev@exa mple.com",
        "dév@example.com",
        "dev@[127.0.0.1]",
        "dev@example.com\x00",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_hostile_or_unusual_addresses_are_refused(raw):
    assert debugmail.address(raw) is None


def test_secrets_are_masked_and_order_kept():
    values = {"send": "Hi", "apikey": "K" * 64, "Password": "s3cret", "login": "a@b.ru"}
    assert debugmail.masked(values) == [
        ("send", "Hi"),
        ("apikey", debugmail.MASK),
        ("Password", debugmail.MASK),
        ("login", "a@b.ru"),
    ]


def test_the_mail_carries_request_and_answer_in_its_body_only():
    message = debugmail.compose(
        sender="gate@example.net",
        to="dev@example.com",
        account_id=7,
        method="GET",
        path="/api.php",
        params=[("send", "Hi\r\nBcc: x@y.z"), ("apikey", debugmail.MASK)],
        answer='{"balance":"1.00"}',
        content_type="application/json; charset=utf-8",
        now=NOW,
    )
    assert message["To"] == "dev@example.com"
    assert message["Bcc"] is None
    assert "account 7" in message["Subject"]
    body = message.get_content()
    assert "send = Hi" in body and '{"balance":"1.00"}' in body
    assert "apikey = ********" in body


def test_rate_window_per_key_slides():
    window = debugmail.RateWindow(2, timedelta(hours=1))
    assert window.allow(1, NOW) and window.allow(1, NOW + timedelta(minutes=1))
    assert not window.allow(1, NOW + timedelta(minutes=2))
    assert window.allow(2, NOW + timedelta(minutes=2))  # another account has its own
    assert window.allow(1, NOW + timedelta(hours=1))  # the first one has left the window
    assert not debugmail.RateWindow(0, timedelta(hours=1)).allow(1, NOW)
