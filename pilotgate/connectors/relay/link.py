"""RelayConnector: forwards messages of every channel to an upstream SMSPILOT-compatible
API-1 (another PilotGate, or smspilot.ru itself) with the upstream's key, and brings its
statuses back (contract §13.6).

    start(events) ──> poll loop: `check` for the upstream ids still waiting for an outcome
                        (events.pending: recorded hand-overs, so a restart or a takeover by
                        another process goes on where the last holder stopped), or `balance`
                        when none; answers ──> bound; final statuses ──> events.receipts()
                        `unhealthy_after` failures in a row ──> unbound (routes fail over)
    submit() ──> one `send` per message, at most `concurrency` at once; with `callback_url`
                 each carries our callback, so the upstream pushes final statuses to
                 /relay/NAME/TOKEN at once (gateway.relay_report) and polling is the fallback

A `send` that times out may have been taken upstream; it goes back to our queue and may be
sent twice (at least once, as over SMPP).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pilotgate.domain import upstream
from pilotgate.domain.messages import Message
from pilotgate.errors import ConnectorError

from .. import outbound
from ..base import Accepted, Events, LinkState, Rejected
from ..schemas.relay import RelaySettings
from .answers import UNHEALTHY, classify, parse_send, parse_send_many, remaining_ttl
from .upstream import UpstreamCalls

if TYPE_CHECKING:
    import aiohttp

#: Recipients in one upstream `send` (API-1 takes 10,000; a smaller request fails smaller).
GROUP_MAX = 500


def _distinct_phones(messages: list[Message], size: int) -> Iterator[list[Message]]:
    """`messages` in chunks of at most `size` with no phone twice: the upstream sends one
    message per distinct phone of a request."""
    chunk: list[Message] = []
    seen: set[str] = set()
    later: list[Message] = []
    for message in messages:
        if message.phone in seen:
            later.append(message)
            continue
        chunk.append(message)
        seen.add(message.phone)
        if len(chunk) == size:
            yield chunk
            chunk, seen = [], set()
    if chunk:
        yield chunk
    if later:
        yield from _distinct_phones(later, size)


class RelayConnector(UpstreamCalls):
    """Build with `RelayConnector(RelaySettings.from_json(name, row.settings), policy)`.

    `policy` is the gateway's address policy: the upstream's name is resolved once per
    connection and only allowed addresses are used (an IP literal in `url` is the operator's
    own choice and allowed as written)."""

    def __init__(
        self, settings: RelaySettings, policy: outbound.OutboundPolicy | None = None
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self._policy = (policy or outbound.OutboundPolicy()).trusting(
            urlsplit(settings.url).hostname or ""
        )
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._events: Events | None = None
        self._limit = asyncio.Semaphore(settings.concurrency)
        self._waiting = 0  # upstream ids the last poll round asked about
        self._failures = 0
        self._bound = False
        self._stopping = False
        self.counts = {"submitted": 0, "receipts": 0, "errors": 0}
        self.problems: dict[str, int] = {}

    # -- Link ------------------------------------------------------------------------------

    async def start(self, events: Events) -> None:
        self._events = events
        self._stopping = False
        # aiohttp is imported where a session is made, not with the module: the CLI's
        # commands import this module and never connect (connectors/outbound_http.py).
        import aiohttp

        from .. import outbound_http

        self._session = aiohttp.ClientSession(
            connector=outbound_http.connector(self._policy),
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
            trust_env=False,  # a proxy from the environment must not bypass the policy
        )
        self._task = asyncio.create_task(self._run(), name=f"relay-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        self._bound = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def state(self) -> LinkState:
        return LinkState(
            bound=self._bound,
            window_used=self._waiting,
            window=0,
            submitted=self.counts["submitted"],
            receipts=self.counts["receipts"],
            errors=self.counts["errors"],
            detail={f"problem.{key}": str(value) for key, value in self.problems.items()},
        )

    # -- Connector -------------------------------------------------------------------------

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Accepted | Rejected]:
        if self._stopping or not self._bound or self._session is None:
            raise ConnectorError(f"relay {self.name} is not bound")
        # Messages that differ only in their phone (a bulk send, an API-1 request to many)
        # go to the upstream as one `send` to many, at most GROUP_MAX and each phone once.
        groups: dict[tuple[tuple[str, str], ...], list[Message]] = defaultdict(list)
        for message in messages:
            groups[tuple(sorted(self._params(message, now).items()))].append(message)
        chunks = [
            (dict(key), chunk)
            for key, members in groups.items()
            for chunk in _distinct_phones(members, GROUP_MAX)
        ]
        answers = await asyncio.gather(*(self._submit_many(p, chunk) for p, chunk in chunks))
        return [outcome for answer in answers for outcome in answer]

    def _params(self, message: Message, now: datetime) -> dict[str, str]:
        """The upstream `send` parameters of `message`, but for its phone."""
        params = upstream.send_params(
            channel=message.channel,
            sender=message.sender,
            sender_orig=message.sender_orig,
            text=message.text,
            sender_map=self.settings.sender_map,
        )
        params["format"] = "json"
        callback = self.settings.callback_for(message.channel)
        if callback:
            params |= {"callback": callback, "callback_method": "post"}
        ttl = remaining_ttl(message, now)
        if ttl is not None:
            params["ttl"] = str(ttl)
        return params

    async def _submit_many(
        self, params: dict[str, str], messages: list[Message]
    ) -> list[Accepted | Rejected]:
        if len(messages) == 1:
            return [await self._submit_one(params, messages[0])]
        async with self._limit:
            body = await self._request({**params, "to": ",".join(m.phone for m in messages)})
        if body is None:  # a failure _request counted: they wait in our queue
            return [self._outcome(m, 110) for m in messages]
        try:
            answers = parse_send_many(body, [m.phone for m in messages])
        except (ValueError, TypeError, AttributeError) as exc:
            self._failed("garbage", f"upstream send answer is not API-1 JSON: {exc}")
            return [self._outcome(m, 110) for m in messages]
        if isinstance(answers, int):
            if answers in UNHEALTHY:
                self._answered(answers)
                return [self._outcome(m, answers) for m in messages]
            # The whole request was refused for some of its phones (more errors than
            # messages): each alone gets its own answer.
            return list(await asyncio.gather(*(self._submit_one(params, m) for m in messages)))
        self._answered(None)
        return [self._outcome(m, answers.get(m.phone, 110)) for m in messages]

    async def _submit_one(self, params: dict[str, str], message: Message) -> Accepted | Rejected:
        async with self._limit:
            body = await self._request({**params, "to": message.phone})
        answer: str | int = 110
        if body is not None:
            try:
                answer = parse_send(body)
            except (ValueError, TypeError, AttributeError) as exc:
                self._failed("garbage", f"upstream send answer is not API-1 JSON: {exc}")
            else:
                self._answered(answer if isinstance(answer, int) else None)
        return self._outcome(message, answer)

    def _outcome(self, message: Message, answer: str | int) -> Accepted | Rejected:
        """What the upstream's answer for one message (its id, or an error code) makes."""
        if isinstance(answer, str):
            self.counts["submitted"] += 1
            return Accepted(server_id=message.server_id, remote_id=answer)
        self.counts["errors"] += 1
        final, error = classify(answer)
        return Rejected(
            server_id=message.server_id,
            error=error,
            final=final,
            retry_after=self.settings.retry_after,
            reason=f"upstream error {answer}",
        )
