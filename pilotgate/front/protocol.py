"""uvicorn's httptools protocol, hardened against slow and oversized clients.

uvicorn (0.54) never times out a head that does not finish, and holds every connection it is
offered: 1,100 clients that each send half a request line kept a gateway limited to 1,024
open files from answering anyone. uvicorn's `limit_concurrency` does not help, because it
answers 503 only once a head is complete, after the socket has been accepted and held. So:

- **Time limits.** A head must arrive within `header_timeout` of the connection (or, on a
  kept-alive connection, of its first byte); a body within `body_timeout` of its head. Too
  late is a 408 and the connection closes; a request whose body never arrived whole is not
  executed (the app sees a disconnect).
- **A connection cap below the open-files limit.** At the cap, a new connection closes the
  connection that has been waiting for its client the longest (a head or body still
  arriving, or kept alive idle): a stalled client loses its place to one that talks, so an
  attacker holding connections open cannot starve customers. Only when every connection is
  busy with a request in progress is the newcomer refused (503).
- **Heads are read here**, up to `max_head_bytes`, and repaired (front/wire.py) before
  llhttp sees them. A larger head reaches the app as a refusal (scope extension
  `pilotgate.head_too_large`), which answers it in the API's own format.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from . import wire
from .cycle import JoinedCycle
from .guard import Guard, Limits

#: How long a refused client may go on sending before its connection closes: closing at once
#: would reset the connection and could destroy the answer before the client read it.
LINGER_SECONDS = 2.0


class GuardedProtocol(HttpToolsProtocol):
    guard: Guard  # set by protocol_class()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buffer = bytearray()
        self._reading_head = True
        self._complete = False
        self._body_left: int | None = 0
        self._chunks = wire.ChunkedScanner()
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False
        #: How far the buffer was searched for the end of the head: a head that arrives a
        #: byte at a time must not be searched from its start every time.
        self._scanned = 0

    # connection ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            self._refused = True
            self._write_error(503, b"Too many connections, try again")
            return
        self.guard.wait(self)
        self._arm(self.guard.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.forget(self)
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _write_error(self, status: int, text: bytes) -> None:
        """A plain-text answer written directly (no request is running), then close."""
        self.transport.write(
            b"%s%s%s%d\r\nconnection: close\r\n\r\n%s"
            % (
                STATUS_LINE[status],
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: ",
                len(text),
                text,
            )
        )
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._buffer.strip():
            self._write_error(408, b"Request head not received in time")
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    def _body_timed_out(self) -> None:
        self._timer = None
        if self.flow.read_paused:  # we stopped reading, not the client: wait on
            self._arm(self.guard.limits.body_timeout, self._body_timed_out)
            return
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request
        if cycle is not None and not cycle.response_started:
            # The app waits in receive(): it gets a disconnect, and the answer is ours.
            cycle.response_started = cycle.disconnected = True
            cycle.message_event.set()
            self._write_error(408, b"Request body not received in time")
        else:
            self.transport.close()

    # input ---------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self.transport.is_closing() or self._refused:
            return  # a refused client may go on sending: its bytes are dropped
        self._buffer += data
        while self._buffer and not self.transport.is_closing() and not self._refused:
            fed = self._take_head() if self._reading_head else self._take_body()
            if not fed:
                return

    def _take_head(self) -> bool:
        # Clients may send empty lines between requests (RFC 9112 §2.2).
        while self._buffer and self._buffer[0] in b"\r\n":
            del self._buffer[:1]
        if not self._buffer:
            return False
        if self._timer is None:  # the first byte of a kept-alive connection's next request
            self._arm(self.guard.limits.header_timeout, self._head_timed_out)
        end = wire.HEAD_END.search(self._buffer, max(0, self._scanned - 3))
        self._scanned = len(self._buffer)
        limit = self.guard.limits.max_head_bytes
        if (end is None and len(self._buffer) > limit) or (end is not None and end.end() > limit):
            self._refuse_head()
            return False
        if end is None:
            return False
        head = bytes(self._buffer[: end.end()])
        del self._buffer[: end.end()]
        self._scanned = 0
        self._reading_head, self._complete = False, False
        if not self._feed(wire.repair_head(head)):
            return False
        self._body_left = wire.body_length(self.headers) if not self._complete else 0
        self._chunks = wire.ChunkedScanner()
        return True

    def _take_body(self) -> bool:
        if self._body_left is None:
            # Chunked: the scanner finds its end, what follows is the next request's head.
            try:
                end = self._chunks.scan(bytes(self._buffer))
            except ValueError:
                self.send_400_response("Invalid HTTP request received.")
                return False
            size = len(self._buffer) if end is None else end
        else:
            size = min(len(self._buffer), self._body_left)
            self._body_left -= size
        piece = bytes(self._buffer[:size])
        del self._buffer[:size]
        return self._feed(piece)

    def _feed(self, data: bytes) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades are served: the request is answered as a plain one.
            if not self._complete:
                self.on_message_complete()
        except httptools.HttpParserError:
            self.send_400_response("Invalid HTTP request received.")
            return False
        if self._complete:
            self._reading_head = True
        return not self.transport.is_closing()

    # parser callbacks ----------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        """uvicorn's, with the target split here (wire.split_target) instead of by
        httptools.parse_url, which cannot hold a target over 65,535 bytes."""
        self._arm(self.guard.limits.body_timeout, self._body_timed_out)
        http_version = self.parser.get_http_version()
        self.scope["method"] = self.parser.get_method().decode("ascii")
        if http_version != "1.1":
            self.scope["http_version"] = http_version
        raw_path, query = wire.split_target(self.url)
        path = raw_path.decode("ascii")
        self.scope["path"] = self.root_path + (urllib.parse.unquote(path) if "%" in path else path)
        self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        self.scope["query_string"] = query
        self._start(
            keep_alive=http_version != "1.0" and self.parser.should_keep_alive(), complete=False
        )

    def _start(self, *, keep_alive: bool, complete: bool) -> None:
        existing: RequestResponseCycle | None = self.cycle  # None before the first request
        self.cycle = JoinedCycle(
            scope=self.scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=keep_alive,
            on_response=self.on_response_complete,
        )
        if complete:
            self.cycle.more_body = False
        if existing is None or existing.response_complete:
            self._start_asgi_task(self.cycle, self.app)
        else:  # pipelined: queued behind the request in progress
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, self.app))

    def on_message_complete(self) -> None:
        self._complete = True
        self._disarm()
        self.guard.busy(self)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing() or self._refused:
            return
        if not self.pipeline and self._reading_head:
            self.guard.wait(self)  # idle until the next request (uvicorn's keep-alive timer)

    # refusal of an oversized head ----------------------------------------------------------
    def _refuse_head(self) -> None:
        """Hand the app what arrived of a head over the limit, marked as refused; then drop
        the rest of the client's bytes until it stops or LINGER_SECONDS pass."""
        self._refused = True
        self._disarm()
        self.guard.busy(self)
        # What fits under the limit is what was read; was it cut inside the request line,
        # or only in the headers after a whole one?
        head = bytes(self._buffer[: self.guard.limits.max_head_bytes])
        in_line = b"\n" not in head
        method, path, query = wire.partial_request(head)
        self._buffer.clear()
        self.on_message_begin()
        self.scope["method"] = method
        self.scope["path"] = urllib.parse.unquote(path.decode("ascii"))
        self.scope["raw_path"] = path
        self.scope["query_string"] = query
        self.scope["extensions"] = {"pilotgate.head_too_large": {"in_request_line": in_line}}
        self._start(keep_alive=True, complete=True)
        self.cycle.on_response = self._linger

    def _linger(self) -> None:
        if not self.transport.is_closing():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)


def protocol_class(limits: Limits) -> type[GuardedProtocol]:
    """A protocol class for one server (uvicorn.Config(http=…)): its connections share one
    guard."""
    return type("Protocol", (GuardedProtocol,), {"guard": Guard(limits)})
