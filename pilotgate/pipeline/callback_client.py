"""The HTTP/1.1 client callbacks are sent with: one request at a time per connection, kept
alive between attempts, answers parsed by httptools (the parser uvicorn serves us with).

Why not aiohttp, which sent them before (issue 14): a callback is a small request whose
answer is a status line, and aiohttp's per-request machinery (request and response objects,
header multidicts, payload writers, its timers) was a fifth of the gateway's CPU end to end
over SMPP, two callbacks per message. What a callback needs is little: connect only where
the address policy allows (`connectors.outbound.resolve`: resolved once, every address
checked, the connection made to those addresses only), write the request, read the status,
read a small answer of known length to keep the connection, drop any other unread. No
redirect is followed (there is no code that could), no proxy is used, no cookie is kept.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from urllib.parse import quote, urlsplit

import httptools

from pilotgate.connectors import outbound
from pilotgate.domain import callbacks

#: Answers up to this size (with a Content-Length) are read to keep the connection.
SMALL_ANSWER = 64 * 1024
#: What may stand in a request target as it is; anything else is percent-encoded.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"


@functools.lru_cache(maxsize=1024)
def _origin(scheme_netloc: str) -> tuple[str, int, bool]:
    """(host, port, TLS?) of "scheme://netloc"; ValueError for a bad port."""
    parts = urlsplit(scheme_netloc)
    tls = parts.scheme == "https"
    return parts.hostname or "", parts.port or (443 if tls else 80), tls


class _Connection(asyncio.Protocol):
    """One connection and its answer parser; an attempt waits on `head` (the status and
    headers are in) and then on `whole` (the answer is complete)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.status = 0
        self.length: int | None = None
        self.keep_alive = False
        self.head: asyncio.Future[None] | None = None
        self.whole: asyncio.Future[None] | None = None

    def start(self, request: bytes) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.head, self.whole = loop.create_future(), loop.create_future()
        self.status, self.length, self.keep_alive = 0, None, False
        self.transport.write(request)

    # asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is one too

    def data_received(self, data: bytes) -> None:
        if self.whole is None or self.whole.done():
            self.close()  # bytes nobody asked for (on an idle connection): not reusable
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionResetError("connection closed by the receiver"))

    # httptools callbacks ------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-length":
            self.length = int(value) if value.strip().isdigit() else None

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.head is not None and not self.head.done():
            self.head.set_result(None)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.whole is not None and not self.whole.done():
            self.whole.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        for waiter in (self.head, self.whole):
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
                waiter.exception()  # retrieved: an answer nobody waits for is no error

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class CallbackClient:
    """Idle connections kept per origin, at most `concurrency` of each; each attempt
    bounded by `timeout` seconds."""

    def __init__(
        self, policy: outbound.OutboundPolicy, *, timeout: float, concurrency: int
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._concurrency = concurrency
        self._idle: dict[str, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def _connect(self, host: str, port: int, tls: bool) -> _Connection:
        try:
            infos = await outbound.resolve(host, port, self._policy)
        except ValueError as exc:  # a host with no IDNA form: refused like a forbidden one
            raise outbound.Refused(str(exc)) from None
        if tls and self._tls is None:
            self._tls = ssl.create_default_context()
        loop = asyncio.get_running_loop()
        failure: OSError = OSError(f"{host} has no address")
        for _family, _, _, _, address in infos:  # each one the policy allowed
            try:
                _, conn = await loop.create_connection(
                    _Connection,
                    str(address[0]),
                    int(address[1]),
                    ssl=self._tls if tls else None,
                    server_hostname=host if tls else None,
                )
            except OSError as exc:
                failure = exc
                continue
            return conn
        raise failure

    async def _asked(self, key: str, data: bytes) -> _Connection:
        """A connection to `key` that `data` was sent on and whose answer's head is in."""
        idle = self._idle.setdefault(key, [])
        while True:
            while idle and idle[-1].closed:
                idle.pop()
            kept = bool(idle)
            conn = idle.pop() if kept else await self._connect(*_origin(key))
            conn.start(data)
            assert conn.head is not None
            try:
                await conn.head
            except OSError:
                conn.close()
                if not kept:
                    raise
                # The receiver closed a kept connection as it was reused (an idle timeout
                # of its own): again on another (at least once allows the repeat).
                continue
            except BaseException:
                conn.close()  # cancelled (the timeout, a stop): the connection is spent
                raise
            return conn

    async def status(self, request: callbacks.HttpRequest) -> int:
        """The status the receiver answered within the timeout (one timer for the
        whole attempt); `outbound.Refused` (final, never retried) when the policy forbids
        the destination, or another OSError / TimeoutError when no status came. Once the
        status is in, a failure or the timeout reading the rest changes nothing."""
        scheme, _, rest = request.url.partition("://")
        netloc, slash, target = rest.partition("/")
        key = f"{scheme}://{netloc}"
        head = [
            f"{request.method} {quote(slash + target, safe=_TARGET_SAFE)} HTTP/1.1",
            f"Host: {netloc}",
            *(f"{name}: {value}" for name, value in request.headers.items()),
        ]
        if request.method != "GET":
            head.append(f"Content-Length: {len(request.body)}")
        if any("\r" in line or "\n" in line for line in head):
            # The sender refuses such URLs first (callback_http); a header value never
            # carries one either. Checked again where the bytes are made.
            raise outbound.Refused("a line break in the request's head")
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + request.body
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(self._timeout):
                conn = await self._asked(key, data)
                assert conn.whole is not None
                whole = conn.whole.done()  # no body (a 204) or all of it in already
                if not whole and (conn.length is None or conn.length > SMALL_ANSWER):
                    conn.close()  # big, endless or of unknown length: dropped unread
                    return conn.status
                await conn.whole
        except (TimeoutError, OSError):
            if conn is None:
                raise  # no status came
            conn.close()
            return conn.status
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        idle = self._idle[key]
        if conn.keep_alive and not conn.closed and len(idle) < self._concurrency:
            idle.append(conn)
        else:
            conn.close()
        return conn.status

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
