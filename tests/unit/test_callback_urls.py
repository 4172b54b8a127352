"""A callback URL is written into the request as it is: no control character may get there
(a header injected into the receiver's request)."""

from __future__ import annotations

import asyncio

import pytest

from pilotgate.connectors import outbound
from pilotgate.domain import callbacks
from pilotgate.pipeline.callback_client import CallbackClient
from pilotgate.pipeline.callback_http import AddressPolicy


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com\r\nX-Injected: 1/status",
        "http://example.com/status\r\nX-Injected: 1",
        "http://example.com/st\tatus",
        "https://exa\nmple.com/",
        "http://example.com/\x7f",
    ],
)
def test_a_url_with_a_control_character_is_refused_before_any_attempt(url: str):
    assert AddressPolicy().static_refusal(url) == "a control character in the URL"


def test_an_ordinary_url_with_a_space_encoded_or_not_may_be_tried():
    assert AddressPolicy().static_refusal("https://example.com/status?a=b%20c") is None


def test_the_client_refuses_a_line_break_in_a_header_without_connecting():
    client = CallbackClient(outbound.OutboundPolicy(), timeout=1, concurrency=1)
    request = callbacks.HttpRequest(
        method="GET",
        url="http://192.0.2.1/status",
        headers={"X-Signature": "abc\r\nX-Injected: 1"},
        body=b"",
    )
    with pytest.raises(outbound.Refused, match="line break"):
        asyncio.run(client.status(request))
