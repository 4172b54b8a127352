"""The relay connector's side toward the upstream (link.py): one API-1 call POSTed with the
upstream's key, whether the upstream is healthy (bound) by its answers, and the poll loop
that `check`s the ids still waiting and fetches inbound SMS."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from pilotgate.errors import GatewayError

from ..base import Events
from ..schemas.relay import RelaySettings
from .answers import PERMANENT, UNHEALTHY, error_code, json_object, parse_check, parse_inbound

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("pilotgate.connectors.relay")

#: ids per `check` request (the API allows 1000).
CHECK_BATCH = 500
#: Most upstream ids one poll round asks about.
POLL_LIMIT = 10 * CHECK_BATCH


class UpstreamCalls:
    """What the relay connector asks of its upstream, and what it makes of the answers."""

    name: str
    settings: RelaySettings
    counts: dict[str, int]
    #: Kinds of trouble, each logged once, with how often they happened.
    problems: dict[str, int]
    _session: aiohttp.ClientSession | None
    _events: Events | None
    _waiting: int
    _failures: int
    _bound: bool
    _stopping: bool

    async def _request(self, params: dict[str, str]) -> str | None:
        """POST one API-1 call (the key in the body, not in logged URLs); its body, or None
        after a network failure, a timeout or a non-200 answer (counted as a failure)."""
        import aiohttp  # imported when the session was made (link.py): a lookup

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

    async def _fetch_inbound(self) -> None:
        """The upstream's new inbound SMS, handed to the pipeline. `inbound=new` marks them
        fetched upstream: one our store then fails to record is lost (at most once)."""
        assert self._events is not None
        body = await self._request({"inbound": "new", "format": "json"})
        if body is None:
            return
        try:
            messages = parse_inbound(body)
        except (ValueError, TypeError, AttributeError) as exc:
            self._failed("garbage", f"upstream inbound answer is not API-1 JSON: {exc}")
            return
        self._answered(None)
        if messages:
            await self._events.inbound(self.name, messages)

    async def poll_once(self) -> None:
        """One round: `check` the upstream ids still waiting, in batches, and report the
        final ones; with none waiting, `balance` (authenticated, cheap) tells whether the
        upstream answers."""
        assert self._events is not None
        if self.settings.fetch_inbound:
            await self._fetch_inbound()
        ids = await self._events.pending(self.name, POLL_LIMIT)
        self._waiting = len(ids)
        if not ids:
            body = await self._request({"balance": "rur", "format": "json"})
            if body is not None:
                try:
                    self._answered(error_code(json_object(body)))
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
