"""The raw ASGI pieces both HTTP fronts (the API and the dashboard) share: the callable
types, reading a request body under a size limit, a request's content type and a whole
answer sent at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLargeError(Exception):
    """The body is larger than the limit (HTTP 413)."""


class BodyIncompleteError(Exception):
    """The client went away, or was cut off by the body timeout, before its body was whole:
    the request must not be executed (a recipient list cut in half is not a smaller send)."""


def declared_length(scope: Scope) -> int | None:
    """The body's length from the head: Content-Length, 0 without one, None when chunked."""
    length = 0
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            length = int(value)
    return length


async def read_body(receive: Receive, limit: int, scope: Scope | None = None) -> bytes:
    """The whole request body; BodyTooLargeError as soon as it passes `limit` bytes (the rest
    is never read). Given the `scope`, a client that goes away before the body it announced
    is whole raises BodyIncompleteError; without it, what arrived so far is returned."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # A request without a body is whole even if its client did not wait for the
            # answer (fire-and-forget GETs are executed, as they always were).
            if scope is not None and size != declared_length(scope):
                raise BodyIncompleteError
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def respond(
    send: Send, status: int, body: bytes, content_type: str, retry_after: int | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def content_type_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""
