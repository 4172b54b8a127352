"""The other use cases: check, balance, senders, inbound, referrers, metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pilotgate.domain import (
    params,
    phones,
    referrals,
    senders as sender_rules,
)
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import SPECIAL_SENDERS, Channel
from pilotgate.domain.messages import Message
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ApiError, ConflictError
from pilotgate.pipeline import metrics
from pilotgate.storage.base import InboundSms, QueueStats, Sender

from .core import (
    GatewayCore,
)


class Queries(GatewayCore):
    async def check(self, account: Account, ids: Sequence[int]) -> dict[int, Message]:
        """The caller's own messages among `ids`, by id (others' ids are absent)."""
        return {m.server_id: m for m in await self.store.messages_by_id(account.id, ids)}

    async def recent(
        self, account: Account, *, hours: int | None, limit: int, offset: int
    ) -> list[Message]:
        since = self.clock() - timedelta(hours=hours) if hours else None
        return await self.store.find_messages(account.id, since=since, limit=limit, offset=offset)

    async def packet(
        self, account: Account, packet_id: int, *, limit: int, offset: int
    ) -> list[Message]:
        return await self.store.find_messages(
            account.id, packet_id=packet_id, limit=limit, offset=offset
        )

    async def balance_sms(self, account: Account) -> int:
        """How many one-part SMS to the home country the balance buys."""
        tariff = await self.tariff(account.tariff_id)
        home = phones.clean(account.phone) if account.phone else self.policy.home_prefix
        rate = tariff.rate(home, Channel.SMS) or tariff.rate(self.policy.home_prefix, Channel.SMS)
        if rate is None or rate.price == 0:
            return 0
        return account.balance // rate.price

    async def approved_senders(self, account: Account) -> list[str]:
        return [
            s.name for s in await self.store.senders(account.id) if s.state is SenderState.APPROVED
        ]

    # inbound and senders -------------------------------------------------------------------------
    async def inbound(self, account: Account, value: str) -> list[InboundSms]:
        """`all`, `new`, a `YYYY-MM-DD HH:MM:SS` time or a unix time; else 500."""
        value = value.strip().lower()
        if value == "all":
            return await self.store.inbound(account.id)
        if value == "new":
            return await self.store.inbound(account.id, only_new=True)
        since = params.parse_time(value)
        if since is None:
            raise ApiError(500)
        return await self.store.inbound(account.id, since=since)

    async def add_sender(
        self, account: Account, name: str, description: str, callback: str
    ) -> Sender:
        """A request for a sender name, to be approved by an operator (640-645)."""
        name, description, callback = name.strip(), description.strip(), callback.strip()
        if not name:
            raise ApiError(640)
        if not sender_rules.is_valid(name) or name.upper() in SPECIAL_SENDERS:
            raise ApiError(641)
        if any(s.name.lower() == name.lower() for s in await self.store.senders(account.id)):
            raise ApiError(642)
        if not description:
            raise ApiError(643)
        if not callback:
            raise ApiError(644)
        if not sender_rules.is_email(callback):
            try:
                params.callback_url(callback)
            except ApiError:
                raise ApiError(645) from None
        try:
            return await self.store.add_sender(
                account.id, name, description[:1000], callback, SenderState.PENDING, self.clock()
            )
        except ConflictError:
            raise ApiError(642) from None

    async def senders(self, account: Account) -> list[Sender]:
        return await self.store.senders(account.id)

    # monitoring ------------------------------------------------------------------------------
    async def queue_stats(self) -> QueueStats:
        """The queue's health now: the console's queue page, the metrics below."""
        return await self.store.queue_stats(self.clock())

    async def metrics(self) -> bytes:
        """The Prometheus exposition: this process's counters and the queue from storage."""
        waiting = sum((await self.store.smpp_deliveries_waiting()).values())
        return metrics.exposition(await self.store.queue_stats(self.clock()), waiting)

    async def link_referrer(self, account: Account, raw: str | None) -> bool:
        """Record the `r=` of a request as the account's referrer, once (contract §14): never
        itself, never changed later; a value naming no account is ignored."""
        referrer = referrals.referrer_id(raw, account.id, account.referrer_id)
        if referrer is None:
            return False
        return await self.store.link_referrer(account.id, referrer, self.policy.referral_percent)
