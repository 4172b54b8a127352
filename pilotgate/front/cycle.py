"""uvicorn's request-response cycle, writing an answer's head together with its body.

uvicorn writes the status line and headers when the app sends `http.response.start` and the
body when it sends `http.response.body`: two `send()` system calls, two TCP segments, for
every API answer, where one would do. Under load the second write was a tenth of the serving
process's CPU (py-spy, docs/performance.md). Here the head is held back and written with the
first body part; uvicorn's own code still builds and checks both.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class _HeadCatcher:
    """Stands in for the transport while uvicorn writes a head: keeps the bytes."""

    def __init__(self) -> None:
        self.head = b""

    def write(self, data: bytes) -> None:
        self.head += data


class _HeadFirst:
    """Stands in for the transport while uvicorn writes the first body part: the held head
    goes out in the same write, or before anything else the cycle does to the transport."""

    def __init__(self, transport: asyncio.Transport, head: bytes) -> None:
        self._transport = transport
        self._head = head

    def write(self, data: bytes) -> None:
        self._transport.write(self._head + data if self._head else data)
        self._head = b""

    def close(self) -> None:
        self.release()
        self._transport.close()

    def release(self) -> None:
        if self._head and not self._transport.is_closing():
            self._transport.write(self._head)
            self._head = b""


class JoinedCycle(RequestResponseCycle):
    """A cycle whose answer's head and first body part leave in one write. A HEAD request's
    answer (no body write follows) is written as uvicorn writes it."""

    _held = b""

    async def send(self, message: Any) -> None:
        if (
            message["type"] == "http.response.start"
            and not self.response_started
            and self.scope["method"] != "HEAD"
        ):
            transport, catcher = self.transport, _HeadCatcher()
            self.transport = catcher  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
            self._held = catcher.head
            return
        if not self._held:
            await super().send(message)
            return
        transport, first = self.transport, _HeadFirst(self.transport, self._held)
        self._held = b""
        self.transport = first  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = transport
            first.release()
