"""Debug mail (contract §14): a copy of an API request and its answer, mailed to the address
the caller named in `debug=`, through the configured SMTP relay.

It must never slow or fail the API call, so `DebugMailer.submit` only checks, composes and
hands the mail to a background task; the SMTP conversation (the standard library's smtplib,
in a worker thread) happens after the answer went out. A failed delivery is logged and
dropped: debug mail is best effort, never retried, and lost if the process stops first.
The relay's name is resolved once per mail and only addresses the gateway's address policy
allows are dialled (`connectors.outbound`; an IP literal `smtp_host` is allowed as written).
Each account may have `per_hour` of them (counted per process); a full backlog drops more.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from pilotgate.connectors import outbound
from pilotgate.domain import debugmail

from . import metrics

log = logging.getLogger("pilotgate.debugmail")

#: Mails waiting for the relay at most; more are dropped (a slow relay must not pile up).
MAX_BACKLOG = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Relay:
    """Where debug mail goes out: an SMTP relay that accepts mail from this host."""

    host: str
    port: int = 25
    sender: str = "pilotgate@localhost"
    timeout: float = 30.0


class DebugMailer:
    def __init__(
        self,
        relay: Relay,
        clock: Callable[[], datetime],
        *,
        per_hour: int = 20,
        policy: outbound.OutboundPolicy | None = None,
    ) -> None:
        self.relay = relay
        # The gateway's address policy, with the relay's IP literal (if it is one) allowed:
        # the relay's name is resolved once per mail and only allowed addresses are dialled.
        self._policy = (policy or outbound.OutboundPolicy()).trusting(relay.host)
        self._clock = clock
        self._limit = debugmail.RateWindow(per_hour, timedelta(hours=1))
        self._tasks: set[asyncio.Task[None]] = set()
        # One relay connection at a time: debug mail is rare, and this keeps it from taking
        # more than one thread of the default executor.
        self._one = asyncio.Semaphore(1)

    def submit(
        self,
        *,
        account_id: int,
        raw_address: str | None,
        method: str,
        path: str,
        params: Mapping[str, str],
        answer: str,
        content_type: str,
    ) -> bool:
        """Queue the mail of one request; False (and nothing sent) when the address is not
        acceptable, the account is over its limit or the backlog is full. Never raises for
        the caller's input and never waits."""
        to = debugmail.address(raw_address)
        if to is None:
            metrics.DEBUG_MAIL.labels("bad_address").inc()
            return False
        now = self._clock()
        if len(self._tasks) >= MAX_BACKLOG:
            metrics.DEBUG_MAIL.labels("backlog").inc()
            return False
        if not self._limit.allow(account_id, now):
            metrics.DEBUG_MAIL.labels("rate_limited").inc()
            return False
        message = debugmail.compose(
            sender=self.relay.sender,
            to=to,
            account_id=account_id,
            method=method,
            path=path,
            params=debugmail.masked(params),
            answer=answer,
            content_type=content_type,
            now=now,
        )
        task = asyncio.get_running_loop().create_task(self._send(message, to))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send(self, message: EmailMessage, to: str) -> None:
        async with self._one:
            try:
                infos = await outbound.resolve(self.relay.host, self.relay.port, self._policy)
                await asyncio.to_thread(self._deliver, message, to, [i[4] for i in infos])
            except (OSError, ValueError, smtplib.SMTPException) as exc:
                log.warning("debug mail to %s not sent: %s", to, exc)
                metrics.DEBUG_MAIL.labels("failed").inc()
            else:
                metrics.DEBUG_MAIL.labels("sent").inc()

    def _deliver(self, message: EmailMessage, to: str, checked: list[tuple[Any, ...]]) -> None:
        """Talk to the first of the `checked` addresses that answers; never to the relay's
        name, which smtplib would resolve again."""
        relay = self.relay
        failure: OSError = OSError(f"no address for {relay.host}")
        for sockaddr in checked:
            with smtplib.SMTP(timeout=relay.timeout) as smtp:
                try:
                    smtp.connect(str(sockaddr[0]), int(sockaddr[1]))
                except OSError as exc:
                    failure = exc
                    continue
                # Exactly one recipient, given explicitly: nothing in the headers can add another.
                smtp.send_message(message, from_addr=relay.sender, to_addrs=[to])
                return
        raise failure

    async def drain(self) -> None:
        """Wait for the mails already queued (a graceful stop; tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
