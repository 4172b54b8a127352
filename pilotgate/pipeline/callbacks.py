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

from pilotgate.domain import callbacks
from pilotgate.errors import GatewayError
from pilotgate.storage.base import CallbackJob, CallbackResult
from pilotgate.storage.roles import Store

from . import metrics
from .callback_http import AddressPolicy, CallbackSender

log = logging.getLogger("pilotgate.callbacks")

#: Seconds a finished attempt waits at most before its result is recorded.
FLUSH_AFTER = 0.05


class CallbackWorker:
    """Sends callbacks: of the store, its jobs and what they report (`CallbackStore`), the
    account's signing secret (`AccountStore`) and sender verdicts (`OperatorStore`); roles
    are classes (storage/roles.py), so a user of several is typed with `Store`."""

    def __init__(
        self,
        store: Store,
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
        self._sender = CallbackSender(policy, timeout=timeout, concurrency=concurrency)
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
            error, refusal = await self._sender.send(request)
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
            await self._sender.close()

    def _flush_due(self) -> bool:
        return bool(self._finished) and time.monotonic() - self._first_finished >= FLUSH_AFTER

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
