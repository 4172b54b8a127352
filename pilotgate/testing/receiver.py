"""A real HTTP/1.1 server on 127.0.0.1 playing a customer's status-callback endpoint.

The gateway's callback delivery (contract §8) must cope with receivers that acknowledge,
fail, hang, flood, trickle, redirect or vanish; `CallbackReceiver` can be told to do each of
those and records every request it saw::

    async with CallbackReceiver(secret="s3cret") as receiver:
        url = receiver.url_for("/cb", user="u", password="p", query="fields=all")
        receiver.fail_next(2)                   # two 500s first, so the gateway must retry
        ...                                     # make the gateway send a callback to `url`
        [call] = await receiver.wait_for(count=1, timeout=30)
        assert call.params["status"] == "2"
        assert call.basic_auth == ("u", "p")
        assert call.signature_valid
        assert [r.answered for r in receiver.requests] == [500, 500, 200]

Behaviours (`behave`): "ok" (200 "OK", the default), "error" (500), "hang" (read the request,
never answer), "big" (200 with a 100 MiB body streamed in chunks), "never_close" (200 with a
body delimited by connection close that trickles forever), "redirect" (302 to `location`) and
"down" (stop listening; any other behaviour listens again on the same port).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Callable, Coroutine, Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self, get_args
from urllib.parse import quote, unquote_to_bytes, urlencode

import h11

__all__ = ["BIG_BODY_SIZE", "Behaviour", "CallbackReceiver", "ReceivedCallback"]

Behaviour = Literal["ok", "error", "hang", "big", "never_close", "redirect", "down"]

#: Bytes in the body of a "big" answer.
BIG_BODY_SIZE = 100 * 1024 * 1024

SIGNATURE_HEADER = "x-pilotgate-signature"

_CHUNK = b"x" * 65536
_READ_SIZE = 65536
_FORM = "application/x-www-form-urlencoded"
log = logging.getLogger("pilotgate.testing.receiver")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedCallback:
    """One request as the receiver saw it."""

    method: str
    #: The request target before `?`, as sent (not percent-decoded).
    path: str
    #: The raw query string (after `?`), exactly as sent, decoded latin-1.
    query: str
    body: bytes
    #: Lower-case names; for a repeated header the last value wins.
    headers: dict[str, str]
    #: From the query string for GET, from a form-urlencoded body otherwise (empty when the
    #: body has another content type); utf-8, last value wins.
    params: dict[str, str]
    basic_auth: tuple[str, str] | None
    #: None when the receiver has no secret.
    signature_valid: bool | None
    #: The status the receiver answered with; None when it never answered.
    answered: int | None
    #: time.monotonic() when the whole request had been read.
    received_at: float


class CallbackReceiver:
    """An HTTP server recording status callbacks and answering as `behave` says.

    Use it as an async context manager (or `start` / `aclose`). Not thread-safe: drive it from
    the event loop it was started on.
    """

    def __init__(
        self,
        *,
        secret: str | bytes | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        trickle_interval: float = 0.05,
    ) -> None:
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._host = host
        self._port = port
        self._trickle_interval = trickle_interval
        self._mode: Behaviour = "ok"
        self._location = ""
        self._failures_left = 0
        self._requests: list[ReceivedCallback] = []
        self._acknowledged: list[ReceivedCallback] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._running = False
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Bind the port and start answering."""
        if self._running:
            raise RuntimeError("the receiver is already running")
        self._running = True
        # Bind even when told to be "down" first, so that the port (and url) is known.
        self._listen()
        if self._mode == "down":
            self._stop_listening()
        elif self._listener is not None:
            await self._listener

    async def aclose(self) -> None:
        """Stop listening and drop every connection, cancelling whatever they were doing."""
        self._running = False
        server = self._stop_listening()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    # -- configuration --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port == 0:
            raise RuntimeError("the port is chosen when the receiver starts")
        return self._port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    def url_for(
        self,
        path: str = "/",
        *,
        user: str | None = None,
        password: str | None = None,
        query: str | Mapping[str, str] | None = None,
    ) -> str:
        """A callback URL on this receiver; credentials go in the userinfo, percent-encoded."""
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="")
            if password is not None:
                userinfo += ":" + quote(password, safe="")
            userinfo += "@"
        elif password is not None:
            raise ValueError("a password needs a user")
        if not path.startswith("/"):
            path = "/" + path
        if query is None:
            suffix = ""
        elif isinstance(query, str):
            suffix = "?" + query
        else:
            suffix = "?" + urlencode(query)
        return f"http://{userinfo}{self._host}:{self.port}{path}{suffix}"

    def behave(self, mode: Behaviour, *, location: str | None = None) -> None:
        """Answer the following requests as `mode` says (see the module docstring).

        "down" also drops the open connections, as a crashed server would; any other mode
        listens again, on the same port, at once.
        """
        if mode not in get_args(Behaviour):
            raise ValueError(f"unknown behaviour {mode!r}")
        if mode == "redirect":
            if not location:
                raise ValueError('"redirect" needs a location')
            self._location = location
        self._mode = mode
        if not self._running:
            return
        if mode == "down":
            self._stop_listening()
            for task, writer in self._connections.items():
                _drop(writer)
                task.cancel()
        else:
            self._listen()

    def fail_next(self, count: int) -> None:
        """Answer the next `count` requests with 500 whatever the behaviour, then resume it."""
        if count < 0:
            raise ValueError("count must be >= 0")
        self._failures_left = count

    # -- observation ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedCallback]:
        """Every request received, in arrival order, whatever it was answered."""
        return list(self._requests)

    @property
    def acknowledged(self) -> list[ReceivedCallback]:
        """The requests answered with a 2xx, in the order they were answered."""
        return list(self._acknowledged)

    async def wait_for(
        self,
        count: int = 1,
        # A deadline argument rather than asyncio.timeout() around the call, so that the error
        # can say what was still missing.
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ReceivedCallback]:
        """Wait until at least `count` requests were acknowledged; return the acknowledged ones.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(
            lambda: len(self._acknowledged) >= count, timeout, f"{count} acknowledged"
        )
        return self.acknowledged

    async def wait_for_requests(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - as wait_for
    ) -> list[ReceivedCallback]:
        """Wait until at least `count` requests arrived, however answered (or not); return all.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(lambda: len(self._requests) >= count, timeout, f"{count} received")
        return self.requests

    async def wait_until(
        self,
        ready: Callable[[list[ReceivedCallback]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - as wait_for
        goal: str = "the condition",
    ) -> list[ReceivedCallback]:
        """Wait until `ready(acknowledged)` holds; return the acknowledged ones. For tests
        that must not count an at-least-once duplicate as a different callback.

        Raises TimeoutError after `timeout` seconds.
        """
        await self._wait_until(lambda: ready(self._acknowledged), timeout, goal)
        return self.acknowledged

    async def _wait_until(self, ready: Callable[[], bool], seconds: float, goal: str) -> None:
        if ready():
            return
        waiter = (ready, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter[1]
        except TimeoutError:
            answers = [request.answered for request in self._requests]
            raise TimeoutError(
                f"wanted {goal} within {seconds}s; received {len(answers)}, answered {answers}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    def _wake(self) -> None:
        for ready, future in self._waiters:
            if not future.done() and ready():
                future.set_result(None)

    # -- listening ------------------------------------------------------------------------------

    def _listen(self) -> None:
        if self._sock is not None:
            return
        # Binding here, synchronously, makes "listening again" true the moment behave() returns:
        # connections made before the server task runs wait in the backlog instead of failing.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Connections aborted by "down" linger in TIME_WAIT and would block the re-bind.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        self._sock = sock
        self._listener = self._spawn(self._serve(sock))

    async def _serve(self, sock: socket.socket) -> None:
        # With start_serving=False creating the server never suspends, so once this task has
        # run at all `_server` is set and `_stop_listening` closes it rather than the bare socket.
        server = await asyncio.start_server(self._accept, sock=sock, start_serving=False)
        self._server = server
        await server.start_serving()

    def _stop_listening(self) -> asyncio.Server | None:
        server, sock, listener = self._server, self._sock, self._listener
        self._server = self._sock = self._listener = None
        if server is not None:
            # Closes the listening socket before returning: new connections are refused now.
            server.close()
        else:
            # The server task has not run yet, so nothing watches the socket.
            if listener is not None:
                listener.cancel()
            if sock is not None:
                sock.close()
        return server

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback (not a coroutine) so that the task is registered the moment the
        # connection exists: aclose() and "down" can then never miss one.
        if self._server is None:
            # Accepted by the kernel just before "down" or aclose().
            writer.transport.abort()
            return
        task = self._spawn(self._connection(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        del self._connections[task]

    # -- one connection -------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
            writer.close()
            await writer.wait_closed()
        except asyncio.CancelledError:
            # Closing gracefully would wait to flush to a peer that may never read.
            writer.transport.abort()
            raise
        except (OSError, h11.ProtocolError):
            # The peer went away or broke HTTP while being answered: nothing left to tell it.
            writer.transport.abort()
        except Exception:
            log.exception("callback receiver: connection handler failed")
            writer.transport.abort()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                received = await _read_request(conn, reader, writer)
            except h11.RemoteProtocolError:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await _send(
                        writer,
                        conn,
                        *_simple_response(400, b"Bad Request", extra=[(b"connection", b"close")]),
                    )
                return
            if received is None:
                return
            if not await self._answer(conn, reader, writer, *received):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _answer(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        body: bytes,
    ) -> bool:
        """Answer one request; False when the connection must end."""
        index = self._record(request, body)
        mode: Behaviour = self._mode
        if self._failures_left > 0:
            self._failures_left -= 1
            mode = "error"
        # `answered` is recorded before the bytes go out, so that a client (or a test) that
        # has seen the answer always finds it recorded.
        match mode:
            case "hang" | "down":
                # Reading to EOF is how a client giving up is noticed.
                while await reader.read(_READ_SIZE):
                    pass
                return False
            case "never_close":
                self._answered(index, 200)
                await self._trickle(reader, writer)
                return False
            case "big":
                self._answered(index, 200)
                await _send_big(conn, writer)
                return True
            case "redirect":
                self._answered(index, 302)
                location = (b"location", self._location.encode())
                await _send(writer, conn, *_simple_response(302, b"", extra=[location]))
                return True
            case "error":
                self._answered(index, 500)
                await _send(writer, conn, *_simple_response(500, b"Internal Server Error"))
                return True
            case "ok":
                self._answered(index, 200)
                await _send(writer, conn, *_simple_response(200, b"OK"))
                return True

    async def _trickle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # h11 frames a length-less answer to an HTTP/1.1 client as chunked; a body that only the
        # connection closing would end is the harder case for a client, so the head is hand-made.
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n")
        while not reader.at_eof():
            writer.write(b".")
            await writer.drain()
            await asyncio.sleep(self._trickle_interval)

    def _record(self, request: h11.Request, body: bytes) -> int:
        method = request.method.decode("ascii")
        raw_path, _, raw_query = request.target.partition(b"?")
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in request.headers
        }
        if method == "GET":
            params = _parse_form(raw_query)
        elif headers.get("content-type", "").split(";")[0].strip().lower() == _FORM:
            params = _parse_form(body)
        else:
            params = {}
        self._requests.append(
            ReceivedCallback(
                method=method,
                path=raw_path.decode("latin-1"),
                query=raw_query.decode("latin-1"),
                body=body,
                headers=headers,
                params=params,
                basic_auth=_basic_auth(headers.get("authorization")),
                signature_valid=self._signature_valid(
                    headers.get(SIGNATURE_HEADER), raw_query if method == "GET" else body
                ),
                answered=None,
                received_at=time.monotonic(),
            )
        )
        self._wake()
        return len(self._requests) - 1

    def _answered(self, index: int, status: int) -> None:
        record = dataclasses.replace(self._requests[index], answered=status)
        self._requests[index] = record
        if 200 <= status < 300:
            self._acknowledged.append(record)
        self._wake()

    def _signature_valid(self, given: str | None, signed: bytes) -> bool | None:
        if self._secret is None:
            return None
        if given is None:
            return False
        expected = hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        # Bytes, because compare_digest refuses non-ASCII str and the header may hold anything.
        return hmac.compare_digest(expected.encode("ascii"), given.encode("latin-1"))


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[h11.Request, bytes] | None:
    """The next request and its body; None when the client closed between requests."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            if conn.client_is_waiting_for_100_continue:
                # curl waits a second for this before sending a body of more than 1 KiB.
                await _send(writer, conn, h11.InformationalResponse(status_code=100, headers=[]))
            conn.receive_data(await reader.read(_READ_SIZE))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:
            # ConnectionClosed; PAUSED cannot happen before the request ended.
            return None


def _drop(writer: asyncio.StreamWriter) -> None:
    sock = writer.transport.get_extra_info("socket")
    writer.transport.abort()
    if sock is not None:
        # abort() closes the socket only on the next loop iteration; shutting it down now means
        # a client checking its pooled connection before reuse already finds it gone.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _simple_response(
    status: int, body: bytes, *, extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[h11.Response, h11.Data, h11.EndOfMessage]:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    return (
        h11.Response(status_code=status, headers=headers, reason=HTTPStatus(status).phrase),
        h11.Data(data=body),
        h11.EndOfMessage(),
    )


async def _send_big(conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(BIG_BODY_SIZE).encode()),
    ]
    await _send(writer, conn, h11.Response(status_code=200, headers=headers, reason=b"OK"))
    remaining = BIG_BODY_SIZE
    while remaining:
        chunk = _CHUNK[:remaining]
        # drain() after every chunk keeps at most the transport's high-water mark buffered.
        await _send(writer, conn, h11.Data(data=chunk))
        remaining -= len(chunk)
    await _send(writer, conn, h11.EndOfMessage())


async def _send(writer: asyncio.StreamWriter, conn: h11.Connection, *events: h11.Event) -> None:
    for event in events:
        data = conn.send(event)
        if data:
            writer.write(data)
    await writer.drain()


def _parse_form(raw: bytes) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            params[_unquote_plus(name)] = _unquote_plus(value)
    return params


def _unquote_plus(raw: bytes) -> str:
    # urllib's parse_qsl insists on ASCII input when given bytes; a receiver must not choke on
    # whatever a buggy sender puts on the wire.
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors="replace")


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.decode("utf-8", errors="replace").partition(":")
    return (user, password) if colon else None
