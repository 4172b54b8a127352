"""The HTTP/1.1 plumbing of the callback receiver (receiver.py), over h11 and asyncio streams:
one request read whole, canned answers written, a 100 MiB body streamed, a connection
dropped as a crashed server would."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from http import HTTPStatus

import h11

#: Bytes in the body of a "big" answer.
BIG_BODY_SIZE = 100 * 1024 * 1024
CHUNK = b"x" * 65536
READ_SIZE = 65536


async def read_request(
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
                await send(writer, conn, h11.InformationalResponse(status_code=100, headers=[]))
            conn.receive_data(await reader.read(READ_SIZE))
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


def drop(writer: asyncio.StreamWriter) -> None:
    sock = writer.transport.get_extra_info("socket")
    writer.transport.abort()
    if sock is not None:
        # abort() closes the socket only on the next loop iteration; shutting it down now means
        # a client checking its pooled connection before reuse already finds it gone.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def simple_response(
    status: int, body: bytes, *, extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[h11.Response, h11.Data, h11.EndOfMessage]:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    return (
        h11.Response(status_code=status, headers=headers, reason=HTTPStatus(status).phrase),
        h11.Data(data=body),
        h11.EndOfMessage(),
    )


async def send_big(conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(BIG_BODY_SIZE).encode()),
    ]
    await send(writer, conn, h11.Response(status_code=200, headers=headers, reason=b"OK"))
    remaining = BIG_BODY_SIZE
    while remaining:
        chunk = CHUNK[:remaining]
        # drain() after every chunk keeps at most the transport's high-water mark buffered.
        await send(writer, conn, h11.Data(data=chunk))
        remaining -= len(chunk)
    await send(writer, conn, h11.EndOfMessage())


async def send(writer: asyncio.StreamWriter, conn: h11.Connection, *events: h11.Event) -> None:
    for event in events:
        data = conn.send(event)
        if data:
            writer.write(data)
    await writer.drain()
