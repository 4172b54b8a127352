"""The roles of delivery: the links' leases and receipts, the callbacks, and two-way numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pilotgate.domain.messages import Message
from pilotgate.domain.routing import Route

from ..base import (
    CallbackJob,
    CallbackResult,
    ConnectorInfo,
    InboundSms,
    LinkLease,
    PoolNumber,
    QueueStats,
    TwoWayMatch,
)


class LinkStore(Protocol):
    """Connectors, routes, our numbers and the leases on links."""

    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        """Create or replace a connector's configuration (its counters are kept)."""

    async def connectors(self) -> list[ConnectorInfo]: ...

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        """Raises NotFoundError for an unknown connector."""

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        """How many of `want` messages the connector may take now under its messages-per-
        second limit, taken atomically for all processes."""

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        """Add to the connector's hand-over counter and heartbeat."""

    async def routes(self) -> list[Route]: ...

    async def save_route(self, route: Route) -> None:
        """Create or replace the route of (prefix, channel)."""

    async def remove_route(self, prefix: str, channel: str, operator: str = "") -> bool: ...

    async def save_number(self, number: str, account_id: int, now: datetime) -> None:
        """Give our number `number` (inbound destination) to an account."""

    async def number_owner(self, number: str) -> int | None: ...

    async def hold_link(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease on link `name`; False while another owner's lease runs."""

    async def release_link(self, name: str, owner: str) -> None: ...

    async def link_leases(self) -> list[LinkLease]: ...

    async def save_link_state(self, name: str, state: str) -> None:
        """Record what the link's owner sees (JSON), for `connector list`."""


class CallbackStore(Protocol):
    """Callback jobs (the database writes them with the change they report) and what they
    report."""

    async def claim_callbacks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[CallbackJob]:
        """Lease due callback jobs. A job waits while an earlier job of the same message (or
        inbound SMS) is still pending, so one message's callbacks go out in status order."""

    async def finish_callbacks(
        self, owner: str, results: Sequence[CallbackResult], now: datetime
    ) -> int:
        """Record delivery attempts of jobs `owner` leases; returns how many were recorded."""

    async def messages_by_ids(self, ids: Sequence[int]) -> list[Message]:
        """Messages by server_id, whatever their account (for the pipeline only)."""

    async def inbound_by_ids(self, ids: Sequence[int]) -> list[InboundSms]:
        """Inbound SMS by id, whatever their account (for the pipeline only)."""

    async def callback_backlog(self, now: datetime) -> tuple[int, int]:
        """(pending jobs, pending jobs already due)."""

    async def queue_stats(self, now: datetime) -> QueueStats:
        """Queue depth by status, the oldest due message's age and the callback backlog
        (cheap: every count runs on a partial index)."""


class TwoWayStore(Protocol):
    """The 2WAY number pool, replies matched to messages, and inbound SMS."""

    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        """Put `number` in the 2WAY pool for destinations under `prefix`, carried by
        `connector` ('' = any), or change those."""

    async def remove_pool_number(self, number: str) -> bool: ...

    async def pool_numbers(self) -> list[PoolNumber]:
        """The whole pool, by number."""

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        """(phone, pool number) → the newest 2WAY message's `created`, of any account, from
        that number to one of `phones` created at or after `since` (refused ones excepted)."""

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        """The message whose part `connector` took as `remote_id` (a relay's upstream names
        it in a reply to a two-way SMS); None if no hand-over names it."""

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        """The newest 2WAY message from `number` to `phone` created at or after `since`, of
        any account, refused ones (-2) excepted; None if there is none."""

    async def add_inbound(
        self,
        account_id: int,
        phone: str,
        num: str,
        text: str,
        now: datetime,
        server_id: int | None = None,
        *,
        stop: bool = False,
    ) -> int:
        """Store an inbound SMS; with `stop`, its phone joins the account's stop list in the
        same transaction (the sender replied with a stop word)."""

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[InboundSms]:
        """Newest first. `only_new` returns the ones not fetched yet and marks them."""
