"""A real HTTP/1.1 server on 127.0.0.1 playing a customer's status-callback endpoint.

The gateway's callback delivery (contract §8) must cope with receivers that acknowledge,
fail, hang, flood, trickle, redirect or vanish; `CallbackReceiver` can be told to do each of
those and records every request it saw (received.py)::

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
from collections.abc import Mapping
from types import TracebackType
from typing import Literal, Self, get_args
from urllib.parse import quote, urlencode

import h11

from . import http_wire as wire
from .http_wire import BIG_BODY_SIZE
from .listener import ConnectionListener
from .received import CallbackLog, ReceivedCallback

__all__ = ["BIG_BODY_SIZE", "Behaviour", "CallbackReceiver", "ReceivedCallback"]

Behaviour = Literal["ok", "error", "hang", "big", "never_close", "redirect", "down"]


class CallbackReceiver(ConnectionListener, CallbackLog):
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
        ConnectionListener.__init__(self, host, port)
        CallbackLog.__init__(self, secret)
        self._trickle_interval = trickle_interval
        self._mode: Behaviour = "ok"
        self._location = ""
        self._failures_left = 0
        self._running = False

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
                wire.drop(writer)
                task.cancel()
        else:
            self._listen()

    def fail_next(self, count: int) -> None:
        """Answer the next `count` requests with 500 whatever the behaviour, then resume it."""
        if count < 0:
            raise ValueError("count must be >= 0")
        self._failures_left = count

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                received = await wire.read_request(conn, reader, writer)
            except h11.RemoteProtocolError:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await wire.send(
                        writer,
                        conn,
                        *wire.simple_response(
                            400, b"Bad Request", extra=[(b"connection", b"close")]
                        ),
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
                while await reader.read(wire.READ_SIZE):
                    pass
                return False
            case "never_close":
                self._answered(index, 200)
                await self._trickle(reader, writer)
                return False
            case "big":
                self._answered(index, 200)
                await wire.send_big(conn, writer)
                return True
            case "redirect":
                self._answered(index, 302)
                location = (b"location", self._location.encode())
                await wire.send(writer, conn, *wire.simple_response(302, b"", extra=[location]))
                return True
            case "error":
                self._answered(index, 500)
                await wire.send(writer, conn, *wire.simple_response(500, b"Internal Server Error"))
                return True
            case "ok":
                self._answered(index, 200)
                await wire.send(writer, conn, *wire.simple_response(200, b"OK"))
                return True

    async def _trickle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # h11 frames a length-less answer to an HTTP/1.1 client as chunked; a body that only the
        # connection closing would end is the harder case for a client, so the head is hand-made.
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n")
        while not reader.at_eof():
            writer.write(b".")
            await writer.drain()
            await asyncio.sleep(self._trickle_interval)
