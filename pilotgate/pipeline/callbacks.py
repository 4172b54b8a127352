"""Delivering callbacks: the jobs the database wrote with each status change (or inbound SMS)
are leased, turned into HTTP requests (`domain.callbacks`) and sent; each result is recorded.

At-least-once: a job is finished only after a 2xx answer; a crash before that leaves the
job to be leased again. Each attempt is bounded (`timeout`), redirects are never followed
(a 3xx is a failed attempt), and only small answers are read, so a receiver that sends
100 MB or never closes costs one connection for at most `timeout`, not memory. Each attempt
resolves the host once and connects only to addresses the policy allows; a forbidden one
ends the job (never retried), a name that does not resolve is retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import yarl

from pilotgate.connectors import outbound
from pilotgate.domain import addresses, callbacks
from pilotgate.errors import GatewayError
from pilotgate.storage.base import CallbackJob, CallbackResult
from pilotgate.storage.dashboard import OperatorStore
from pilotgate.storage.roles import AccountStore, CallbackStore

from . import metrics


class CallbackWorkerStore(CallbackStore, AccountStore, OperatorStore, Protocol):
    """What the callback worker reads and writes: its jobs, what they report, the account's
    signing secret and sender verdicts."""


log = logging.getLogger("pilotgate.callbacks")

#: Answers up to this size (with a Content-Length) are read to keep the connection.
_SMALL_ANSWER = 64 * 1024
#: Seconds a finished attempt waits at most before its result is recorded.
FLUSH_AFTER = 0.05


class AddressPolicy:
    """Decides whether a callback URL may be called. At send time `refusal` resolves the
    host to judge it; at each attempt the connection itself resolves once and goes only to
    addresses the policy allows (`connectors.outbound`), so no answer can change in between."""

    def __init__(self, allowed: str = "") -> None:
        self.outbound = outbound.OutboundPolicy.parse(allowed)

    def static_refusal(self, url: str) -> str | None:
        """Why the URL must not be called, judged without DNS: not http(s), no host, a host
        with no IDNA form, an IP literal the policy forbids. None when it may be tried."""
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port
        except ValueError:
            return "malformed URL"
        if parts.scheme not in ("http", "https") or not host:
            return "not an http(s) URL"
        try:
            addresses.ascii_host(host)
        except ValueError as exc:
            return str(exc)
        if addresses.literal(host) is not None:
            return self.outbound.refusal(host, [host])
        return None

    async def refusal(self, url: str) -> str | None:
        """Why the URL must not be called, or None. A host that does not resolve is not
        refused here (DNS can be down for a while); each attempt resolves it again."""
        why = self.static_refusal(url)
        if why is not None:
            return why
        parts = urlsplit(url)
        if parts.hostname is None or addresses.literal(parts.hostname) is not None:
            return None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await outbound.resolve(parts.hostname, port, self.outbound)
        except outbound.Refused as exc:
            return str(exc)
        except OSError:
            return None
        return None


class CallbackWorker:
    def __init__(
        self,
        store: CallbackWorkerStore,
        clock: Callable[[], datetime],
        policy: AddressPolicy,
        *,
        retry: callbacks.RetryPolicy | None = None,
        timeout: float = 30.0,
        concurrency: int = 50,
        poll_interval: float = 0.2,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._retry = retry or callbacks.RetryPolicy()
        self._timeout = timeout
        self._concurrency = concurrency
        self._poll = poll_interval
        self._session: aiohttp.ClientSession | None = None
        self.owner = f"callbacks-{uuid.uuid4().hex[:12]}"
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._finished: list[CallbackResult] = []
        self._first_finished = 0.0  # time.monotonic() of the oldest unrecorded result

    async def _claim_and_start(self, tasks: set[asyncio.Task[None]]) -> int:
        """Lease as many due jobs as there is room for and start an attempt for each.

        Only once a quarter of the slots is free (or none is busy): each round costs the
        same few queries whether it claims one job or fifty, so claiming in step with every
        finished attempt would spend the database on rounds instead of callbacks."""
        room = self._concurrency - len(tasks)
        if room <= 0 or (tasks and room < max(1, self._concurrency // 4)):
            return 0
        now = self._clock()
        lease = timedelta(seconds=self._timeout * 2 + 10)
        jobs = await self._store.claim_callbacks(self.owner, now, now + lease, room)
        requests = await self._requests(jobs) if jobs else {}
        for job in jobs:
            request = requests.get(job.id, "subject is gone")
            task = asyncio.create_task(self._complete(job, request))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return len(jobs)

    async def _complete(self, job: CallbackJob, request: callbacks.HttpRequest | str) -> None:
        # Await first: `self._finished` is swapped by `_flush` meanwhile, and the append must
        # go to the list that is current when the result is in.
        result = await self._attempt(job, request)
        if not self._finished:
            self._first_finished = time.monotonic()
        self._finished.append(result)
        self._wake.set()

    async def _flush(self) -> None:
        if self._finished:
            done, self._finished = self._finished, []
            try:
                await self._store.finish_callbacks(self.owner, done, self._clock())
            except GatewayError:
                # Kept for the next flush (an outage): dropped, each acknowledged callback
                # would be sent again once its lease ran out.
                self._finished = done + self._finished
                raise

    async def _requests(
        self, jobs: Sequence[CallbackJob]
    ) -> dict[int, callbacks.HttpRequest | str]:
        """The HTTP request of each job whose subject still exists, or why it cannot be
        made (a URL stored before its host was checked for an IDNA form)."""
        messages = {
            m.server_id: m
            for m in await self._store.messages_by_ids([j.ref for j in jobs if j.kind == "status"])
        }
        inbound = {
            i.id: i
            for i in await self._store.inbound_by_ids([j.ref for j in jobs if j.kind == "inbound"])
        }
        verdicts = {
            v.sender_id: v
            for v in await self._store.sender_verdicts([j.ref for j in jobs if j.kind == "sender"])
        }
        secrets: dict[int, str] = {}
        for account_id in {j.account_id for j in jobs}:
            account = await self._store.account(account_id)
            secrets[account_id] = account.callback_secret if account else ""
        built: dict[int, callbacks.HttpRequest | str] = {}
        for job in jobs:
            if job.kind == "status" and job.ref in messages:
                params = callbacks.status_params(
                    messages[job.ref], job.status or 0, job.error, callbacks.extra_fields(job.url)
                )
            elif job.kind == "inbound" and job.ref in inbound:
                item = inbound[job.ref]
                params = callbacks.inbound_params(
                    item.id, item.phone, item.num, item.text, item.created, item.server_id
                )
            elif job.kind == "sender" and job.ref in verdicts:
                v = verdicts[job.ref]
                params = callbacks.sender_params(v.sender_id, v.name, v.state, v.reason)
            else:
                continue
            try:
                built[job.id] = callbacks.build(
                    job.url, job.method, params, secrets[job.account_id]
                )
            except ValueError as exc:
                built[job.id] = str(exc)
        return built

    async def _attempt(
        self, job: CallbackJob, request: callbacks.HttpRequest | str
    ) -> CallbackResult:
        refusal = request if isinstance(request, str) else self._policy.static_refusal(job.url)
        error = None
        if refusal is None:
            assert not isinstance(request, str)
            error, refusal = await self._send(request)
        if refusal is not None:
            # Final, never retried: the subject is gone, the URL can never be called, or the
            # operator has not allowed the address it leads to.
            log.warning("callback %d given up: %s", job.id, refusal)
            metrics.CALLBACKS.labels("given_up").inc()
            return CallbackResult(job_id=job.id, acknowledged=False, error=refusal)
        if error is None:
            metrics.CALLBACKS.labels("acknowledged").inc()
            return CallbackResult(job_id=job.id, acknowledged=True)
        retry_at = callbacks.next_attempt(job.attempts + 1, job.created, self._clock(), self._retry)
        metrics.CALLBACKS.labels("retry" if retry_at else "given_up").inc()
        log.info(
            "callback %d for %s %d failed (%s); %s",
            job.id,
            job.kind,
            job.ref,
            error,
            f"retry at {retry_at:%H:%M:%S}" if retry_at else "giving up",
            extra={"callback_id": job.id, "account_id": job.account_id}
            | ({"server_id": job.ref} if job.kind == "status" else {}),
        )
        return CallbackResult(job_id=job.id, acknowledged=False, error=error, retry_at=retry_at)

    def _client(self) -> aiohttp.ClientSession:
        """One session (and connection pool) for all attempts, made inside the event loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # Keep every connection we may use alive: reopening costs more than a request.
                connector=outbound.connector(
                    self._policy.outbound, limit=self._concurrency, limit_per_host=0
                ),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                trust_env=False,  # a proxy from the environment must not bypass the policy
                auto_decompress=False,
            )
        return self._session

    async def _send(self, request: callbacks.HttpRequest) -> tuple[str | None, str | None]:
        """(None, None) when acknowledged (2xx), else (why, None) for a failed attempt or
        (None, why) when the policy refused the address. Only a small answer of known
        length is read (so the connection can be reused); any other is dropped unread, and
        once the status is in, a failure reading the rest changes nothing."""
        status: int | None = None
        try:
            async with asyncio.timeout(self._timeout):
                async with self._client().request(
                    request.method,
                    # encoded=True: send the query exactly as signed.
                    yarl.URL(request.url, encoded=True),
                    data=request.body or None,
                    headers=request.headers,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    length = response.content_length
                    if length is not None and length <= _SMALL_ANSWER:
                        await response.read()
                    else:
                        response.close()
        except TimeoutError:
            if status is None:
                return f"no answer within {self._timeout:g} s", None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            if status is None:
                refused = outbound.refused(exc)
                if refused is not None:
                    return None, str(refused)
                return f"{type(exc).__name__}: {exc}"[:500], None
        assert status is not None
        return (None if 200 <= status < 300 else f"HTTP {status}"), None

    async def run(self) -> None:
        """Attempt jobs until `stop()`; a slow receiver holds one slot, never the others.
        On stop, attempts in flight are abandoned: their leases run out and they are tried
        again (at-least-once)."""
        log.info("callback worker %s started", self.owner)
        tasks: set[asyncio.Task[None]] = set()
        # Results are recorded in batches: a quarter of the slots' worth, or whatever is in
        # after FLUSH_AFTER seconds, or everything when no attempt is in flight. Recording
        # each as it came cost a transaction per one or two results.
        batch = max(1, self._concurrency // 4)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    if len(self._finished) >= batch or not tasks or self._flush_due():
                        await self._flush()
                    started = await self._claim_and_start(tasks)
                except GatewayError:
                    log.exception("callback round failed")  # leases run out; retried later
                    started = 0
                if not started:
                    # Sleep until an attempt ends, a stop, or the next poll (or flush).
                    wait = FLUSH_AFTER if self._finished else self._poll
                    try:
                        await asyncio.wait_for(self._wake.wait(), wait)
                    except TimeoutError:
                        pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._flush()
            if self._session is not None:
                await self._session.close()

    def _flush_due(self) -> bool:
        return bool(self._finished) and time.monotonic() - self._first_finished >= FLUSH_AFTER

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
