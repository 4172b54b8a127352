"""The request-head repair of the HTTP front (pilotgate/front/wire.py): bytes in, bytes out."""

from __future__ import annotations

import resource

import httptools
import pytest

from pilotgate import front
from pilotgate.front import wire


def _parses(head: bytes) -> bytes:
    """The target llhttp reads from `head` (it raises on what it refuses)."""
    url = bytearray()

    class Callbacks:
        def on_url(self, piece: bytes) -> None:
            url.extend(piece)

    httptools.HttpRequestParser(Callbacks()).feed_data(head)
    return bytes(url)


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        (b"/api.php?send=\xd0\x9f", b"/api.php?send=%D0%9F"),  # raw UTF-8
        (b"/api.php?send=\xcf\xf0", b"/api.php?send=%CF%F0"),  # raw windows-1251
        (b"/api.php?send=a b#5", b"/api.php?send=a%20b%235"),  # as nginx takes it
        (b"/api.php?send=%D0%9F+x", b"/api.php?send=%D0%9F+x"),  # already encoded: as it is
        (b"/?x=\x00\x01\x7f", b"/?x=%00%01%7F"),
    ],
)
def test_repair_makes_any_target_acceptable_to_llhttp(raw: bytes, repaired: bytes) -> None:
    head = b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert _parses(wire.repair_head(head)) == repaired


def test_what_is_not_a_request_line_is_left_for_the_parser_to_refuse() -> None:
    for head in (b"\x16\x03\x01 tls hello\r\n\r\n", b"GET /\r\n\r\n", b"GET\r\n\r\n"):
        assert wire.repair_head(head) == head


def test_split_target() -> None:
    assert wire.split_target(b"/api.php?a=1?b") == (b"/api.php", b"a=1?b")
    assert wire.split_target(b"/api.php") == (b"/api.php", b"")
    assert wire.split_target(b"http://gw.example/api.php?x=1") == (b"/api.php", b"x=1")
    assert wire.split_target(b"HTTPS://gw.example") == (b"/", b"")
    long_query = b"to=" + b"79087964781%2C" * 10_000  # far beyond 16-bit offsets
    assert wire.split_target(b"/api.php?" + long_query) == (b"/api.php", long_query)


def test_partial_request_of_a_head_cut_off() -> None:
    assert wire.partial_request(b"GET /api.php?format=xml&to=7908,79") == (
        "GET",
        b"/api.php",
        b"format=xml&to=7908,79",
    )
    assert wire.partial_request(b"POST /api2.php?x=\xd0 HTTP/1.1\r\nX: aaaa") == (
        "POST",
        b"/api2.php",
        b"x=%D0",
    )


def test_body_length() -> None:
    assert wire.body_length([(b"host", b"x")]) == 0
    assert wire.body_length([(b"content-length", b"12")]) == 12
    assert wire.body_length([(b"transfer-encoding", b"chunked")]) is None


def test_chunked_scanner_finds_the_end_whatever_the_pieces() -> None:
    body = b"5;ext=1\r\nhello\r\n10\r\n" + b"\n" * 16 + b"\r\n0\r\nTrailer: x\r\n\r\n"
    following = b"GET / HTTP/1.1\r\n\r\n"
    for size in (1, 2, 7, len(body) + len(following)):
        scanner, consumed = wire.ChunkedScanner(), 0
        stream = body + following
        for start in range(0, len(stream), size):
            piece = stream[start : start + size]
            end = scanner.scan(piece)
            if end is not None:
                consumed += end
                break
            consumed += len(piece)
        assert consumed == len(body), size


def test_chunked_scanner_bounds_its_lines() -> None:
    with pytest.raises(ValueError, match="too long"):
        wire.ChunkedScanner().scan(b"5;" + b"x" * (wire.ChunkedScanner.MAX_LINE + 1))


def test_the_connection_budget_stays_under_the_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        assert front.connection_budget() == 768  # a quarter kept for everything else
        assert front.connection_budget(100) == 100
        assert front.connection_budget(5000) == 768
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert front.connection_budget() == 128  # at least 128 files kept
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
