"""The callback HTTP client's one bound: an attempt ends within the timeout however the
receiver stalls, before its answer or in the middle of a short answer's body (the client's
total timeout is the only timer since issue 14)."""

from __future__ import annotations

import asyncio

from pilotgate.domain.callbacks import HttpRequest
from pilotgate.pipeline.callback_http import AddressPolicy, CallbackSender

#: Only a guard so that a regression fails instead of hanging the suite; not a timing check.
GUARD = 30
#: The servers' connection handlers still running: each test waits for them before its loop
#: closes (Python 3.11's `Server.wait_closed` does not), or a handler that never ran to its
#: `writer.close()` leaves a writer that warns when it is collected in a later test.
HANDLERS: set[asyncio.Task[None]] = set()


def _handling() -> None:
    task = asyncio.current_task()
    assert task is not None
    HANDLERS.add(task)
    task.add_done_callback(HANDLERS.discard)


async def _handlers_done() -> None:
    await asyncio.wait_for(asyncio.gather(*HANDLERS, return_exceptions=True), GUARD)


async def _shut(sender: CallbackSender, server: asyncio.Server) -> None:
    """The client closed, then the server, then every handler it started: nothing is left to
    warn in a later test."""
    await sender.close()
    server.close()
    await server.wait_closed()
    await _handlers_done()


async def _stalling_server(answer: bytes) -> tuple[asyncio.Server, asyncio.Future[bool]]:
    """Reads the request, writes `answer` and then nothing; tells whether the client hung
    up on it."""
    hung_up: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _handling()
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        hung_up.set_result(await reader.read() == b"")  # EOF once the client gives up
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), hung_up


async def _attempt(answer: bytes) -> tuple[tuple[str | None, str | None], bool]:
    server, hung_up = await _stalling_server(answer)
    port = server.sockets[0].getsockname()[1]
    sender = CallbackSender(AddressPolicy("127.0.0.0/8"), timeout=0.5, concurrency=2)
    request = HttpRequest(method="GET", url=f"http://127.0.0.1:{port}/s", body=b"", headers={})
    try:
        result = await asyncio.wait_for(sender.send(request), GUARD)
        closed = await asyncio.wait_for(hung_up, GUARD)
    finally:
        await _shut(sender, server)
    return result, closed


async def test_no_answer_is_a_failed_attempt() -> None:
    (error, refusal), closed = await _attempt(b"")
    assert (error, refusal) == ("no answer within 0.5 s", None)
    assert closed


async def test_a_short_body_that_never_ends_is_cut_off() -> None:
    # The status (200) was in: acknowledged, and the connection dropped, not kept waiting.
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nOK"
    (error, refusal), closed = await _attempt(answer)
    assert (error, refusal) == (None, None)
    assert closed


async def _answering_server(
    close_after_each: bool, answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
) -> tuple[asyncio.Server, list[int], asyncio.Queue[None]]:
    """Answers `answer` to each request; counts requests per connection (in order of
    connection) and reports each connection's end on the queue."""
    per_connection: list[int] = []
    ended: asyncio.Queue[None] = asyncio.Queue()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _handling()
        per_connection.append(0)
        me = len(per_connection) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                per_connection[me] += 1
                writer.write(answer)
                await writer.drain()
                if close_after_each:
                    break
        except asyncio.IncompleteReadError:
            pass  # the client hung up
        writer.close()
        ended.put_nowait(None)

    return await asyncio.start_server(handle, "127.0.0.1", 0), per_connection, ended


async def test_a_connection_is_kept_for_the_next_attempt_and_dropped_when_closed() -> None:
    for close_after_each in (False, True):
        server, per_connection, ended = await _answering_server(close_after_each)
        port = server.sockets[0].getsockname()[1]
        sender = CallbackSender(AddressPolicy("127.0.0.0/8"), timeout=5, concurrency=2)
        url = f"http://127.0.0.1:{port}/s?a=1"
        try:
            for n in range(3):
                if close_after_each and n:
                    # The receiver closed the last connection (the client may not have seen
                    # it yet): the next attempt must not fail on it, but use a new one.
                    await asyncio.wait_for(ended.get(), GUARD)
                body = f"n={n}".encode()
                request = HttpRequest(method="POST", url=url, body=body, headers={})
                assert await asyncio.wait_for(sender.send(request), GUARD) == (None, None)
        finally:
            await _shut(sender, server)
        # Kept alive: one connection for three attempts; else one each.
        assert per_connection == ([1, 1, 1] if close_after_each else [3])


async def test_an_answer_without_a_body_keeps_the_connection() -> None:
    server, per_connection, _ = await _answering_server(False, b"HTTP/1.1 204 No Content\r\n\r\n")
    port = server.sockets[0].getsockname()[1]
    sender = CallbackSender(AddressPolicy("127.0.0.0/8"), timeout=5, concurrency=2)
    request = HttpRequest(method="GET", url=f"http://127.0.0.1:{port}/s", body=b"", headers={})
    try:
        for _ in range(2):
            assert await asyncio.wait_for(sender.send(request), GUARD) == (None, None)
    finally:
        await _shut(sender, server)
    assert per_connection == [2]
