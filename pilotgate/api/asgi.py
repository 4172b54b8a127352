"""The raw ASGI pieces both HTTP fronts (the API and the dashboard) share: the callable
types and reading a request body under a size limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLargeError(Exception):
    """The body is larger than the limit (HTTP 413)."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; BodyTooLargeError as soon as it passes `limit` bytes (the rest
    is never read). A client that goes away leaves what arrived so far."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
