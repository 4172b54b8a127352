"""The PROXY protocol v1 header the SMPP server believes from its named proxies."""

from __future__ import annotations

import pytest

from pilotgate.domain import proxy_header


@pytest.mark.parametrize(
    ("line", "client"),
    [
        (b"PROXY TCP4 192.0.2.7 127.0.0.1 51514 2775\r\n", "192.0.2.7"),
        (b"PROXY TCP6 2001:db8::1 ::1 51514 2775\r\n", "2001:db8::1"),
        (b"PROXY UNKNOWN\r\n", None),
        (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", None),
    ],
)
def test_the_client_a_proxy_speaks_for(line: bytes, client: str | None) -> None:
    assert proxy_header.source(line) == client


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 192.0.2.7 127.0.0.1 51514 2775\n",  # no CR
        b"PROXY TCP4 192.0.2.7 127.0.0.1 51514\r\n",
        b"PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n",  # family mismatch
        b"PROXY TCP4 192.0.2.7 127.0.0.1 99999 2775\r\n",
        b"PROXY TCP4 192.0.2.777 127.0.0.1 1 2\r\n",
        b"PROXY TCP5 192.0.2.7 127.0.0.1 1 2\r\n",
        b"HELLO TCP4 192.0.2.7 127.0.0.1 1 2\r\n",
        b"PROXY TCP4 192.0.2.7 127.0.0.1 \xd9\xa1 2\r\n",
        b"PROXY " + b"x" * 120 + b"\r\n",
        b"\x00\x00\x00\x10\x00\x00\x00\x15\r\n",  # an SMPP header is no PROXY line
    ],
)
def test_anything_else_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        proxy_header.source(line)
