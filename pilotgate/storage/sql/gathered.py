"""Reads gathered across concurrent requests: the reads every API send makes (its key's
account, its stop-list check) asked by many requests at once become one statement.

Why: under load most of a send's database cost was these two one-row reads, one statement
each per request. In PostgreSQL each statement is a pooled connection borrowed and a round
trip (measured: 40 % of the process's CPU at 50 connections, docs/performance.md); in SQLite
a statement's Python wrapper. Gathered, a batch of N requests costs one statement of each.

How, like the group commit of submits (storage/sql/messages.py): a caller queues its request
and waits on a future; one runner task per kind of read takes everything queued, runs one
statement for all of it, answers each caller, and repeats while more arrived meanwhile. A
lone request waits for nothing but that task's start (the next turn of the event loop). Each
read is as fresh as before: it is run after the request was queued, never served from a
cache, so a blocked account or a new stop-list entry counts from the next statement on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Asked = TypeVar("Asked")
Answer = TypeVar("Answer")

#: Answers a batch of requests, one answer per request, in order.
Fetch = Callable[[Sequence[Asked]], Awaitable[Sequence[Answer]]]


class Gatherer(Generic[Asked, Answer]):
    """One kind of read, gathered: `ask` waits for the batch it joined."""

    def __init__(self, fetch: Fetch[Asked, Answer]) -> None:
        self._fetch = fetch
        self._waiting: list[tuple[Asked, asyncio.Future[Answer]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def ask(self, asked: Asked) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((asked, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                answers = await self._fetch([asked for asked, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():  # else its caller went away (cancelled)
                    future.set_result(answer)
