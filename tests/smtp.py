"""A real SMTP server on 127.0.0.1 (aiosmtpd) on its own thread, for debug mail tests.

Received mails land in a thread-safe queue: a test waits for the next one with a timeout
instead of sleeping.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import queue
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return str(self.message.get_content())


class _Handler:
    def __init__(self, inbox: queue.Queue[Mail]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.put(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpSink:
    """`with SmtpSink() as sink:` listens on `sink.port` (of 127.0.0.1, or `host`) until the
    block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox: queue.Queue[Mail] = queue.Queue()
        self.host = host
        self.port = port
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handler = _Handler(self.inbox)
        server = await self._loop.create_server(
            lambda: SMTP(handler, hostname="sink.test"), self.host, self.port
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def next(self, timeout: float = 15.0) -> Mail:
        """The next mail received; fails the test if none comes within `timeout`."""
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no mail within {timeout} s") from None

    def pending(self) -> list[Mail]:
        """Mails received and not taken yet, without waiting."""
        found = []
        while True:
            try:
                found.append(self.inbox.get_nowait())
            except queue.Empty:
                return found
