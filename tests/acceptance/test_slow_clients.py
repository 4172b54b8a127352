"""Slow clients (issue 12, item 2): a gateway limited to 1,024 open files keeps answering
while 1,100 clients hold connections open without ever finishing their request, and heads
and bodies that arrive too slowly are cut off with a 408."""

from __future__ import annotations

import contextlib
import re
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from .support import DEMO_KEY, TELE2, Api, Server, running

OPEN_FILES = 1024
SLOW_CLIENTS = 1100


def _limit_files() -> None:
    # In the child, before exec: soft and hard limit, as `ulimit -n 1024` sets them.
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo gateway with at most 1,024 open files and the default time limits."""
    server = Server(tmp_path_factory.mktemp("slow"), "demo", preexec=_limit_files)
    with running(server):
        yield server


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo gateway that gives heads and bodies one second each."""
    settings = {"PILOTGATE_HEADER_TIMEOUT": "1", "PILOTGATE_BODY_TIMEOUT": "1"}
    with running(Server(tmp_path_factory.mktemp("impatient"), "demo", settings)) as server:
        yield server


@contextlib.contextmanager
def _more_files(wanted: int) -> Iterator[None]:
    """This test process needs more than 1,100 sockets itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"needs {wanted} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (bounded by the socket's timeout)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_a_slowloris_does_not_starve_customers(limited: Server, http: httpx.Client) -> None:
    with _more_files(SLOW_CLIENTS + 200), contextlib.ExitStack() as stack:
        slow = []
        for _ in range(SLOW_CLIENTS + 50):
            sock = stack.enter_context(socket.create_connection(_address(limited), timeout=30))
            # Half a request line, never finished.
            sock.sendall(b"GET /api.php?balance=rur&apikey=")
            slow.append(sock)
        started = time.monotonic()
        answer = http.get(limited.url + "/api.php", params={"balance": "rur", "apikey": DEMO_KEY})
        elapsed = time.monotonic() - started
        assert answer.status_code == 200
        assert answer.text == "1000.00"
        assert elapsed < 1.0, f"balance took {elapsed:.3f} s"  # the issue's own bound
        # And the gateway keeps serving: a send goes through while the slow ones still wait.
        demo = Api(http, limited.url, DEMO_KEY)
        (item,) = demo.json(send="still here", to=TELE2)["send"]
        assert item["status"] == "0"
    assert "Too many open files" not in limited.log


def test_a_head_that_never_ends_gets_408(impatient: Server) -> None:
    with socket.create_connection(_address(impatient), timeout=30) as sock:
        sock.sendall(b"GET /api.php?balance=rur&apikey=" + DEMO_KEY.encode())
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert answer.endswith(b"Request head not received in time")
    with socket.create_connection(_address(impatient), timeout=30) as sock:
        assert _answer(sock) == b""  # said nothing: closed without an answer


def test_a_body_that_never_ends_gets_408_and_is_not_executed(
    impatient: Server, http: httpx.Client
) -> None:
    demo = Api(http, impatient.url, DEMO_KEY)
    before = demo.newest_id()
    body = f"apikey={DEMO_KEY}&send=half&to={TELE2}".encode()
    with socket.create_connection(_address(impatient), timeout=30) as sock:
        sock.sendall(
            b"POST /api.php HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body) + 20, body)
        )
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert demo.newest_id() == before  # the half request sent nothing
    # A whole one on the same gateway is answered as usual.
    (item,) = demo.json(send="whole", to=TELE2)["send"]
    assert item["status"] == "0"


def test_a_kept_alive_connection_is_timed_per_request(impatient: Server) -> None:
    """The head clock starts again with each request on a kept-alive connection."""
    request = b"GET /api.php?balance=rur&apikey=%s HTTP/1.1\r\nHost: x\r\n\r\n" % DEMO_KEY.encode()
    with socket.create_connection(_address(impatient), timeout=30) as sock:
        sock.sendall(request)
        first = b""
        while not re.search(rb"\r\n\r\n\d+\.\d\d$", first):  # the head, then a balance
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 "), first
        sock.sendall(request[:20])  # the second request stalls
        assert _answer(sock).startswith(b"HTTP/1.1 408 ")
