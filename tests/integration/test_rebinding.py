"""DNS rebinding (issue 12, item 1): a real `pilotgate serve` whose resolver answers each
name under `.rebind.test` with an allowed address and a forbidden one in turn. Whatever the
order of the answers, no callback, relay request or debug mail may reach the forbidden one.

The resolver is the process's own `socket.getaddrinfo`, replaced by a `sitecustomize` module
on the server's PYTHONPATH (asyncio's loop, aiohttp and smtplib all resolve through it; the
module keeps uvloop, which resolves in libuv, from loading). The
allowed address is 127.0.0.2 (the only network the gateway allows); the forbidden one is
127.0.0.1, on the same port, where a listening socket that never accepts plays the trap: a
connection there stays in its accept queue, so an empty queue at the end proves none came.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.support import TELE2, Api, Server, running
from tests.smtp import SmtpSink

ALLOWED, FORBIDDEN = "127.0.0.2", "127.0.0.1"

SITECUSTOMIZE = """
import os, socket, sys, threading

# uvloop resolves in libuv, past socket.getaddrinfo: the server falls back to asyncio's loop.
sys.modules["uvloop"] = None

_real = socket.getaddrinfo
_answers = os.environ["REBIND_ANSWERS"].split(",")
_counts = {}
_lock = threading.Lock()


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if not name.rstrip(".").endswith(".rebind.test"):
        return _real(host, port, family, type, proto, flags)
    with _lock:
        count = _counts[name] = _counts.get(name, 0) + 1
    # Names starting "b." get the forbidden answer first, the others the allowed one first.
    address = _answers[(count - (0 if name.startswith("b.") else 1)) % len(_answers)]
    return _real(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)


socket.getaddrinfo = getaddrinfo
"""


class Trap:
    """A listening socket on the forbidden address that never answers: `connections()`
    takes what reached its accept queue and counts it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((FORBIDDEN, 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.count = 0

    def connections(self) -> int:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError as exc:
                assert exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
                return self.count
            conn.close()
            self.count += 1


class Upstream(http.server.ThreadingHTTPServer):
    """The allowed side of HTTP: records request paths, answers API-1 `balance` in JSON
    (enough for a relay's poll, and a 2xx for a callback)."""

    def __init__(self, port: int) -> None:
        self.paths: list[str] = []
        super().__init__((ALLOWED, port), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Upstream

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.paths.append(self.path)
        body = b'{"balance": "10.00"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(upstream: Upstream) -> Iterator[Upstream]:
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        upstream.shutdown()
        upstream.server_close()
        thread.join(10)


def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll observable state (with a deadline), never sleep for a fixed time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def traps() -> Iterator[dict[str, Trap]]:
    made = {name: Trap() for name in ("callbacks", "relay", "smtp")}
    yield made
    for trap in made.values():
        trap.sock.close()


def _server(tmp_path: Path, traps: dict[str, Trap]) -> Server:
    (tmp_path / "dns").mkdir()
    (tmp_path / "dns" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(tmp_path / "dns"), os.environ.get("PYTHONPATH")) if p)
    return Server(
        tmp_path,
        "serve",
        settings={
            "PYTHONPATH": path,
            "REBIND_ANSWERS": f"{ALLOWED},{FORBIDDEN}",
            "PILOTGATE_CALLBACK_ALLOW_NETWORKS": f"{ALLOWED}/32",
            "PILOTGATE_EMULATOR_DELAY": "0.1",
            "PILOTGATE_POLL_INTERVAL": "0.05",
            "PILOTGATE_CALLBACK_TIMEOUT": "5",
            "PILOTGATE_SMTP_HOST": "b.mail.rebind.test",
            "PILOTGATE_SMTP_PORT": str(traps["smtp"].port),
            "PILOTGATE_SMTP_TIMEOUT": "5",
        },
    )


def test_callbacks_relay_requests_and_debug_mail_never_reach_a_rebound_address(
    tmp_path: Path, traps: dict[str, Trap]
) -> None:
    server = _server(tmp_path, traps)
    server.cli(
        "connector", "add", "relay", "up",
        "--url", f"http://b.up.rebind.test:{traps['relay'].port}", "--key", "UPSTREAMKEY",
        "--set", "poll_interval=0.2",
    )  # fmt: skip
    account = server.create_account(balance="100.00")
    with (
        serving(Upstream(traps["callbacks"].port)) as receiver,
        serving(Upstream(traps["relay"].port)) as upstream,
        SmtpSink(ALLOWED, traps["smtp"].port) as sink,
        running(server),
        httpx.Client(timeout=30) as http,
    ):
        api = Api(http, server.url, account.key)
        messages = 4
        for n in range(messages):
            # A name per message: each one's answers start over (allowed first).
            url = f"http://m{n}.rebind.test:{traps['callbacks'].port}/cb"
            (item,) = api.json(send="x", to=TELE2, callback=url)["send"]
            assert item["status"] == "0"
        # Two debug mails: the relay's first answer is the forbidden address, its second
        # the allowed one.
        api.text(balance="rur", debug="first@example.com")
        api.text(balance="rur", debug="second@example.com")

        # Each message's second callback reaches one side or the other (its first one is
        # refused: the check before it got the forbidden answer).
        until(
            lambda: len(receiver.paths) + traps["callbacks"].connections() >= messages,
            "a callback of each message",
        )
        until(
            lambda: len(upstream.paths) + traps["relay"].connections() >= 2,
            "two relay polls",
        )
        mail = sink.next(timeout=20)
        assert mail.rcpt_tos == ["second@example.com"]
    assert {name: trap.connections() for name, trap in traps.items()} == {
        "callbacks": 0,
        "relay": 0,
        "smtp": 0,
    }
