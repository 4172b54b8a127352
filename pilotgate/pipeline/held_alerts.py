"""The operator's callback for held traffic (contract §17.6, `pumping_alert_url`): when a send
has messages held as suspected SMS pumping, a JSON POST tells the operator's system which
account, how many and which server_ids, so a pager or a chat bot can wake someone.

Like debug mail it must never slow or fail the send: `notice` only hands the POST to a
background task. It goes through the gateway's address policy (`connectors.outbound`: the
URL's host is resolved once and only allowed addresses are dialled; an IP literal the
operator wrote is allowed as written). Best effort: a failed POST is logged and counted,
not retried; the console's Held page and the `pilotgate_held_messages` gauge stay the
record. One alert per account per `quiet` seconds and process, so an attack does not turn
into a flood of alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pilotgate.connectors import outbound

from . import metrics

log = logging.getLogger("pilotgate.pumping")

#: Alerts waiting for the operator's endpoint at most; more are dropped.
MAX_BACKLOG = 50


class HeldAlerts:
    def __init__(
        self,
        url: str,
        clock: Callable[[], datetime],
        *,
        policy: outbound.OutboundPolicy | None = None,
        quiet: float = 60.0,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._policy = (policy or outbound.OutboundPolicy()).trusting(urlsplit(url).hostname or "")
        self._clock = clock
        self._quiet = timedelta(seconds=quiet)
        self._timeout = timeout
        self._last: dict[int, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def notice(self, account_id: int, server_ids: Sequence[int]) -> bool:
        """Queue the alert of one send's held messages; False (nothing sent) within the
        account's quiet time or with a full backlog. Never raises, never waits."""
        now = self._clock()
        last = self._last.get(account_id)
        if (last is not None and now - last < self._quiet) or len(self._tasks) >= MAX_BACKLOG:
            metrics.HELD_ALERTS.labels("skipped").inc()
            return False
        self._last[account_id] = now
        body = {
            "event": "held",
            "account_id": account_id,
            "held": len(server_ids),
            "server_ids": list(server_ids[:100]),
            "time": now.strftime("%Y-%m-%d %H:%M:%S"),
        }
        task = asyncio.get_running_loop().create_task(self._post(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _post(self, body: dict[str, object]) -> None:
        # aiohttp is imported where a session is made, not with the module: the CLI's
        # commands import this module and never connect (connectors/outbound_http.py).
        import aiohttp

        from pilotgate.connectors import outbound_http

        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with (
                aiohttp.ClientSession(
                    connector=outbound_http.connector(self._policy),
                    timeout=timeout,
                    trust_env=False,
                ) as session,
                session.post(self.url, json=body, allow_redirects=False) as answer,
            ):
                answer.raise_for_status()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("held-traffic alert to %s not delivered: %s", self.url, exc)
            metrics.HELD_ALERTS.labels("failed").inc()
        else:
            metrics.HELD_ALERTS.labels("sent").inc()

    async def drain(self) -> None:
        """Wait for the alerts already queued (a graceful stop; tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
