"""RelayConnector: forwards messages of every channel to an upstream SMSPILOT-compatible
API-1 (another PilotGate, or smspilot.ru itself) with the upstream's key, and brings its
statuses back (COMPAT §13.6).

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
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from pilotgate.domain import upstream
from pilotgate.domain.channels import Channel
from pilotgate.domain.checks import RESULT_FIELDS
from pilotgate.domain.messages import Message, Status
from pilotgate.errors import ConfigError, ConnectorError, GatewayError

from .base import Accepted, Events, LinkState, Receipt, Rejected

log = logging.getLogger(__name__)

#: Upstream errors about the message itself: sending it again cannot help. Anything else
#: (110 system error, 112 no money, auth, garbage) is ours or the upstream's to fix, so the
#: message waits in our queue until it works or expires.
PERMANENT = frozenset({111, 115, 200, 201, 204, 212, 213, 214, 215, 220, 221, 223, 226, 243})
#: Upstream errors that say the link itself is unusable (key, account, money, its own
#: failure): they count as failures, so routes fail over to the next connector.
UNHEALTHY = frozenset({100, 101, 102, 105, 106, 107, 110, 112, 113, 400, 401})
#: ids per `check` request (the API allows 1000).
CHECK_BATCH = 500
#: Most upstream ids one poll round asks about.
POLL_LIMIT = 10 * CHECK_BATCH
_CHECK_CHANNELS = frozenset({Channel.HLR.value, Channel.PING.value})


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaySettings:
    """Example `settings` JSON (url and apikey required)::

    {"url": "https://smspilot.ru", "apikey": "…", "sender_map": {"SHOP": "SHOP2"},
     "poll_interval": 2, "timeout": 10,
     "callback_url": "https://gw.example.com", "callback_token": "…"}

    `callback_url` is this gateway's own base URL as the upstream reaches it; with it, the
    upstream calls `callback_url/relay/NAME/callback_token` with each final status.
    """

    name: str
    url: str
    apikey: str
    sender_map: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = 2.0  #: seconds between `check` rounds
    timeout: float = 10.0  #: seconds for one upstream request
    concurrency: int = 8  #: `send` requests at once
    unhealthy_after: int = 2  #: failed requests in a row that make the link unbound
    retry_after: float = 5.0  #: seconds before a temporarily refused message is tried again
    callback_url: str = ""  #: our base URL for the upstream's status callbacks ("" = poll only)
    callback_token: str = ""  #: the secret path segment those callbacks must carry

    @classmethod
    def from_json(cls, name: str, settings: str) -> RelaySettings:
        """Build from the connector row; ConfigError names what is wrong."""
        try:
            raw: Any = json.loads(settings or "{}")
        except ValueError as exc:
            raise ConfigError(f"connector {name}: settings are not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"connector {name}: settings must be a JSON object")
        for key in ("url", "apikey"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ConfigError(f"connector {name}: setting {key!r} is missing")
        if not raw["url"].startswith(("http://", "https://")):
            raise ConfigError(f"connector {name}: 'url' must be an http(s) URL")
        sender_map = raw.get("sender_map", {})
        if not isinstance(sender_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sender_map.items()
        ):
            raise ConfigError(f"connector {name}: 'sender_map' must map names to names")
        numbers: dict[str, type[float] | type[int]] = {
            "poll_interval": float,
            "timeout": float,
            "retry_after": float,
            "concurrency": int,
            "unhealthy_after": int,
        }
        callback, token = _callback_settings(name, raw)
        unknown = set(raw) - {"url", "apikey", "sender_map", "callback_url", "callback_token"}
        unknown -= set(numbers)
        if unknown:
            raise ConfigError(f"connector {name}: unknown setting {sorted(unknown)[0]!r}")
        try:
            values: dict[str, Any] = {k: t(raw[k]) for k, t in numbers.items() if k in raw}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"connector {name}: {exc}") from exc
        if any(value <= 0 for value in values.values()):
            raise ConfigError(f"connector {name}: numbers must be positive")
        return cls(
            name=name,
            url=raw["url"].rstrip("/"),
            apikey=raw["apikey"],
            sender_map=dict(sender_map),
            callback_url=callback.rstrip("/"),
            callback_token=token,
            **values,
        )

    def callback_for(self, channel: str) -> str:
        """The callback URL the upstream calls with the final status of a message of
        `channel` ('' without `callback_url`); number checks ask for their result fields."""
        if not self.callback_url:
            return ""
        url = f"{self.callback_url}/relay/{self.name}/{self.callback_token}"
        if channel in _CHECK_CHANNELS:
            url += "?fields=" + ",".join(RESULT_FIELDS)
        return url


def _callback_settings(name: str, raw: Mapping[str, Any]) -> tuple[str, str]:
    """`callback_url` and `callback_token`, checked: the token is a path segment and a
    secret, so it must be URL-safe and long enough not to be guessed."""
    callback, token = raw.get("callback_url", ""), raw.get("callback_token", "")
    if not isinstance(callback, str) or not isinstance(token, str):
        raise ConfigError(f"connector {name}: 'callback_url', 'callback_token' are strings")
    if not callback:
        return "", ""
    if not callback.startswith(("http://", "https://")):
        raise ConfigError(f"connector {name}: 'callback_url' must be an http(s) URL")
    if len(token) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise ConfigError(f"connector {name}: 'callback_token' must be 16+ URL-safe characters")
    return callback, token


# -- pure decisions on upstream answers --------------------------------------------------------


def classify(code: int) -> tuple[bool, int]:
    """An upstream `send` error → (final, our error). Final ones keep the upstream's code."""
    if code in PERMANENT:
        return True, code
    return False, 110


def _json(body: str) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("answer is not a JSON object")
    return data


def _error_code(data: Mapping[str, Any]) -> int | None:
    error = data.get("error")
    if error is None:
        return None
    if isinstance(error, dict):
        return int(error.get("code", 110))
    return int(error)


def parse_send(body: str) -> str | int:
    """The upstream's `server_id` for our one recipient, or its error code.
    ValueError (and its subclasses) when the answer is not API-1 JSON."""
    data = _json(body)
    code = _error_code(data)
    if code is not None:
        return code
    items = data.get("send")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise ValueError("send answer without exactly one item")
    item = items[0]
    if upstream.to_int(item.get("status"), -2) == -2:
        return upstream.to_int(item.get("error"), 110)
    server_id = str(item.get("server_id", ""))
    if not server_id.isdigit() or server_id == "0":
        raise ValueError(f"bad server_id {server_id!r}")
    return server_id


def receipt_of(item: Mapping[str, Any]) -> Receipt | None:
    """The receipt an upstream item (of `check`, or a status callback) makes when its status
    is final, with a number check's result fields; None while it is not. ValueError for
    garbage."""
    outcome = upstream.final_outcome(
        upstream.to_int(item.get("status")), upstream.to_int(item.get("error"))
    )
    if outcome is None:
        return None
    return Receipt(
        remote_id=str(item["server_id"]),
        status=outcome[0],
        error=outcome[1],
        details=upstream.result_details(item),
    )


def parse_check(body: str, asked: Sequence[str]) -> list[Receipt]:
    """Final statuses among the `check` answer's items for the ids in `asked`; other ids
    (not ours: another account's, or made up) are ignored. An id the upstream does not know
    (-2, e.g. 302) ends -1 with 603: it will never be delivered through it. ValueError when
    the answer is garbage."""
    data = _json(body)
    wanted = set(asked)
    code = _error_code(data)
    if code is not None:
        if code == 302 and len(asked) == 1:  # a single unknown id is answered as an error
            return [Receipt(remote_id=asked[0], status=Status.UNDELIVERED, error=603)]
        raise ValueError(f"check answered error {code}")
    items = data.get("check")
    if not isinstance(items, list):
        raise ValueError("check answer without a list")
    receipts = []
    for item in items:
        if not isinstance(item, dict) or str(item.get("server_id")) not in wanted:
            continue
        receipt = receipt_of(item)
        if receipt is not None:
            receipts.append(receipt)
    return receipts


def remaining_ttl(message: Message, now: datetime) -> int | None:
    """Minutes left of the message's ttl (1..1440), None without one."""
    if message.ttl is None:
        return None
    expires = (message.send_datetime or message.created) + timedelta(minutes=message.ttl)
    return max(1, min(1440, math.ceil((expires - now).total_seconds() / 60)))


# -- the link ----------------------------------------------------------------------------------


class RelayConnector:
    """Build with `RelayConnector(RelaySettings.from_json(name, row.settings))`."""

    def __init__(self, settings: RelaySettings) -> None:
        self.name = settings.name
        self.settings = settings
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
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout)
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
        return list(await asyncio.gather(*(self._submit_one(m, now) for m in messages)))

    async def _submit_one(self, message: Message, now: datetime) -> Accepted | Rejected:
        params = upstream.send_params(
            channel=message.channel,
            sender=message.sender,
            sender_orig=message.sender_orig,
            text=message.text,
            sender_map=self.settings.sender_map,
        )
        params |= {"to": message.phone, "format": "json"}
        callback = self.settings.callback_for(message.channel)
        if callback:
            params |= {"callback": callback, "callback_method": "post"}
        ttl = remaining_ttl(message, now)
        if ttl is not None:
            params["ttl"] = str(ttl)
        async with self._limit:
            body = await self._request(params)
        answer: str | int = 110
        if body is not None:
            try:
                answer = parse_send(body)
            except (ValueError, TypeError, AttributeError) as exc:
                self._failed("garbage", f"upstream send answer is not API-1 JSON: {exc}")
            else:
                self._answered(answer if isinstance(answer, int) else None)
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

    # -- upstream --------------------------------------------------------------------------

    async def _request(self, params: dict[str, str]) -> str | None:
        """POST one API-1 call (the key in the body, not in logged URLs); its body, or None
        after a network failure, a timeout or a non-200 answer (counted as a failure)."""
        assert self._session is not None
        try:
            async with self._session.post(
                self.settings.url + "/api.php", data={**params, "apikey": self.settings.apikey}
            ) as response:
                if response.status != 200:
                    self._failed("http", f"upstream answered HTTP {response.status}")
                    return None
                body = await response.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._failed("network", f"upstream unreachable: {exc!r}")
            return None
        return body

    def _answered(self, code: int | None) -> None:
        """The upstream answered in API-1 JSON, with error `code` or none."""
        if code in UNHEALTHY:
            self._failed(f"error{code}", f"upstream answered error {code}")
        elif code is None or code in PERMANENT:
            if not self._bound:
                log.info("relay %s: the upstream answers; bound", self.name)
            self._failures = 0
            self._bound = True

    def _failed(self, key: str, message: str) -> None:
        """Log a kind of trouble once (later ones are counted in state()); enough failures
        in a row make the link unbound so the outbox fails over."""
        self.problems[key] = self.problems.get(key, 0) + 1
        if self.problems[key] == 1:
            log.warning("relay %s: %s (logged once; counted in state())", self.name, message)
        self._failures += 1
        if self._bound and self._failures >= self.settings.unhealthy_after:
            log.warning("relay %s: unbound after %d failures", self.name, self._failures)
            self._bound = False

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.poll_once()
            except GatewayError:
                # Storing the receipts failed: the ids stay in flight and are asked again.
                log.exception("relay %s: recording receipts failed", self.name)
            await asyncio.sleep(self.settings.poll_interval)

    async def poll_once(self) -> None:
        """One round: `check` the upstream ids still waiting, in batches, and report the
        final ones; with none waiting, `balance` (authenticated, cheap) tells whether the
        upstream answers."""
        assert self._events is not None
        ids = await self._events.pending(self.name, POLL_LIMIT)
        self._waiting = len(ids)
        if not ids:
            body = await self._request({"balance": "rur", "format": "json"})
            if body is not None:
                try:
                    self._answered(_error_code(_json(body)))
                except (ValueError, TypeError, AttributeError) as exc:
                    self._failed("garbage", f"upstream balance answer is not API-1 JSON: {exc}")
            return
        for start in range(0, len(ids), CHECK_BATCH):
            batch = ids[start : start + CHECK_BATCH]
            params = {"check": ",".join(batch), "fields": "server_id,status,error"}
            body = await self._request({**params, "format": "json"})
            if body is None:
                return
            try:
                receipts = parse_check(body, batch)
            except (ValueError, TypeError, AttributeError) as exc:
                self._failed("garbage", f"upstream check answer is not API-1 JSON: {exc}")
                return
            self._answered(None)
            if receipts:
                await self._events.receipts(self.name, receipts)
                self.counts["receipts"] += len(receipts)
