"""The callback HTTP client's one bound: an attempt ends within the timeout however the
receiver stalls, before its answer or in the middle of a short answer's body (the client's
total timeout is the only timer since issue 14)."""

from __future__ import annotations

import asyncio

from pilotgate.domain.callbacks import HttpRequest
from pilotgate.pipeline.callback_http import AddressPolicy, CallbackSender

#: Only a guard so that a regression fails instead of hanging the suite; not a timing check.
GUARD = 30


async def _stalling_server(answer: bytes) -> tuple[asyncio.Server, asyncio.Future[bool]]:
    """Reads the request, writes `answer` and then nothing; tells whether the client hung
    up on it."""
    hung_up: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
        await sender.close()
        server.close()
        await server.wait_closed()
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
