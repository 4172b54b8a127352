"""Request lines as clients of smspilot.ru send them (issue 12, item 7): 10,000 recipients in
one GET, raw UTF-8 or windows-1251 bytes in the target, and what is too large answered with
the API's own error in the requested format, never a bare 400. Raw sockets: an HTTP client
library would encode what these clients do not."""

from __future__ import annotations

import contextlib
import json
import re
import socket

from .support import DEMO_KEY, TELE2, Api, Server, error_json, error_text, error_xml

RECIPIENTS = ",".join(f"7908{n:07d}" for n in range(10_000))


def _raw(server: Server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` byte for byte; (status, headers, body) of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert match, answer[:200]
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(match.group(1)), headers, body


def _get(server: Server, target: bytes, *extra_headers: bytes) -> tuple[int, dict[str, str], bytes]:
    head = [b"GET " + target + b" HTTP/1.1", b"Host: pilotgate", b"Connection: close"]
    return _raw(server, b"\r\n".join([*head, *extra_headers, b"", b""]))


def test_a_get_with_10000_recipients_is_answered(gate: Server) -> None:
    target = f"/api.php?apikey={DEMO_KEY}&send=Hi&cost=1&format=json&to={RECIPIENTS}"
    assert len(target) > 100_000  # beyond the 64 KiB that failed before
    status, _, body = _get(gate, target.encode())
    assert status == 200
    assert json.loads(body) == {"cost": "39500.00"}  # 10,000 × 3.95


def test_a_request_line_over_the_limit_gets_the_api_error_in_its_format(gate: Server) -> None:
    too_many = ",".join([RECIPIENTS] * 6)  # 720 KB, over the 512 KiB head limit
    for fmt, expected in (
        ("json", json.dumps(error_json(240)).encode()),
        ("xml", error_xml(240).encode()),
    ):
        target = f"/api.php?apikey={DEMO_KEY}&send=Hi&format={fmt}&to={too_many}"
        status, headers, body = _get(gate, target.encode())
        assert status == 200
        assert headers["access-control-allow-origin"] == "*"
        if fmt == "json":
            assert json.loads(body) == error_json(240)
        else:
            assert body == expected
    target = f"/api.php?apikey={DEMO_KEY}&to={TELE2}&lang=ru&send={'x' * 600_000}"
    assert _get(gate, target.encode())[2] == error_text(221, "ru").encode()
    # API-2 answers in JSON, its only format.
    status, _, body = _get(gate, f"/api2.php?to={too_many}".encode())
    assert (status, json.loads(body)) == (200, error_json(240))


def test_headers_over_the_limit(gate: Server) -> None:
    big = b"X-Padding: " + b"a" * 600_000
    status, _, body = _get(
        gate, f"/api.php?balance=rur&format=json&apikey={DEMO_KEY}".encode(), big
    )
    assert (status, json.loads(body)) == (200, error_json(11))
    status, _, body = _get(gate, b"/cabinet/", big)
    assert (status, body) == (431, b"Request header fields too large")


def test_the_readmes_golos_line_with_raw_utf8(gate: Server) -> None:
    # curl sends the README's line as it is: Cyrillic as raw UTF-8 bytes.
    target = f"/api.php?send=Ваш+код+1234&to={TELE2}&from=GOLOS&apikey={DEMO_KEY}&format=json"
    status, _, body = _get(gate, (target + "&fields=message").encode("utf-8"))
    assert status == 200, body
    (item,) = json.loads(body)["send"]
    assert item["message"] == "Ваш код 1234"


def test_raw_windows_1251_with_its_charset(gate: Server) -> None:
    text = "Привет, мир"
    target = (
        f"/api.php?send={text}&to={TELE2}&apikey={DEMO_KEY}&charset=windows-1251"
        "&format=json&fields=message"
    )
    status, headers, body = _get(gate, target.encode("cp1251"))
    assert status == 200
    assert headers["content-type"] == "application/json; charset=windows-1251"
    (item,) = json.loads(body.decode("cp1251"))["send"]
    assert item["message"] == text


def test_raw_bytes_that_do_not_decode_get_error_11(gate: Server) -> None:
    # windows-1251 bytes without the charset: not UTF-8 → 11, in the format asked for.
    target = f"/api.php?format=xml&send=Привет&to={TELE2}&apikey={DEMO_KEY}"
    status, _, body = _get(gate, target.encode("cp1251"))
    assert (status, body) == (200, error_xml(11).encode())


def test_spaces_hash_and_control_bytes_in_the_target(demo: Api, gate: Server) -> None:
    # An unencoded text, as a careless client concatenates it: nginx takes it whole.
    target = f"/api.php?send=Order #5 ready&to={TELE2}&apikey={DEMO_KEY}&format=json&fields=message"
    status, _, body = _get(gate, target.encode())
    assert status == 200
    (item,) = json.loads(body)["send"]
    assert item["message"] == "Order #5 ready"
    # Control bytes and broken escapes are the API's business, never a bare 400.
    for junk in (b"\x01\x7f", b"%zz", b"%", b"\xff\xfe"):
        raw = b"/api.php?format=json&apikey=" + DEMO_KEY.encode() + b"&balance=" + junk
        status, headers, body = _get(gate, raw)
        assert status == 200, (junk, body)
        assert headers["content-type"].startswith("application/json"), (junk, headers)
        json.loads(body)


# The front reads heads itself: bodies and pipelined requests still arrive intact ------------
def _exchange(server: Server, request: bytes, answers: int) -> list[bytes]:
    """Send `request`; the bodies of the first `answers` answers (Content-Length framed)."""
    host, port = server.url.removeprefix("http://").split(":")
    bodies: list[bytes] = []
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(request)
        data = b""
        while len(bodies) < answers:
            head_end = data.find(b"\r\n\r\n")
            length = (
                re.search(rb"content-length: (\d+)", data[:head_end]) if head_end >= 0 else None
            )
            if length and len(data) >= head_end + 4 + int(length.group(1)):
                end = head_end + 4 + int(length.group(1))
                bodies.append(data[head_end + 4 : end])
                data = data[end:]
                continue
            chunk = sock.recv(65536)
            assert chunk, (bodies, data)
            data += chunk
    return bodies


def test_chunked_and_pipelined_requests(gate: Server) -> None:
    key = DEMO_KEY.encode()
    form = b"apikey=" + key + b"&send=Chunked&to=" + TELE2.encode() + b"&cost=1&format=json"
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (form[:10], form[10:]))
    get = b"GET /api.php?apikey=" + key + b"&send=Hi&to=" + TELE2.encode() + b"&cost=1 HTTP/1.1\r\n"
    request = (
        b"POST /api.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        + chunked
        + b"0\r\n\r\n"
        + get
        + b"Host: x\r\n\r\n"
        + b"POST /api.php HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(form)
        + b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        + form
        + b"GET /api.php?send=\xd0\x9f&to="
        + TELE2.encode()
        + b"&apikey="
        + key
        + b"&cost=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert _exchange(gate, request, 4) == [b'{"cost":"3.95"}', b"3.95", b'{"cost":"3.95"}', b"3.95"]


def test_expect_100_continue(gate: Server) -> None:
    # curl asks so before a body over 1 KiB.
    form = b"apikey=" + DEMO_KEY.encode() + b"&balance=rur&pad=" + b"x" * 2000
    host, port = gate.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            b"POST /api.php HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(form)
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(form)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert re.search(rb"\r\n\r\n\d+\.\d\d$", answer), answer
