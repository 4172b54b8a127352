"""A browserless client of the dashboard: an httpx client with its own cookie jar that
reads CSRF tokens out of the pages it gets, as a browser's forms would send them."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import httpx

from pilotgate.testing.receiver import CallbackReceiver

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
OPERATOR_EMAIL = "operator@example.com"
OPERATOR_PASSWORD = "operator-password"


class Web:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=30.0, follow_redirects=False)
        self.token = ""

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text) if response.status_code < 500 else None
        if found:
            self.token = found.group(1)
        return response

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST a form with the token of the last page seen (or `csrf`; '' sends none)."""
        form = dict(data or {})
        token = self.token if csrf is None else csrf
        if token:
            form["csrf"] = token
        return self.client.post(path, data=form, **kwargs)

    def login(self, email: str, password: str, area: str = "cabinet") -> httpx.Response:
        self.get(f"/{area}/login")
        answer = self.post(f"/{area}/login", {"email": email, "password": password})
        self.get(f"/{area}/")  # the token of the new session
        return answer


class ReceiverThread:
    """A CallbackReceiver on its own loop in a thread, for synchronous tests."""

    def __init__(self) -> None:
        self.url = ""
        self.receiver: CallbackReceiver | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with CallbackReceiver() as receiver:
            self.receiver = receiver
            self.url = receiver.url_for("/verdict")
            self._ready.set()
            await self._stop.wait()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Any]:
        assert self._loop is not None and self.receiver is not None
        future = asyncio.run_coroutine_threadsafe(
            self.receiver.wait_for(count=count, timeout=timeout), self._loop
        )
        return list(future.result(timeout + 5))

    def __enter__(self) -> ReceiverThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
