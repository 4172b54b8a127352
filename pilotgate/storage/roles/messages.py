"""The roles of messages: what the API stores and reads, and what the outbox claims and
settles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Message
from pilotgate.domain.receipts import Receipt
from pilotgate.domain.replacements import Replacement

from ..base import (
    Handover,
    Refusal,
    Submitted,
)


class MessageStore(Protocol):
    """Accepting messages and reading them back for their owner."""

    async def submit(
        self,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        guard: SubmitGuard | None = None,
    ) -> Submitted:
        """Store the drafts and debit their total price in one transaction. The first
        server_id is the packet id. Raises InsufficientFundsError (nothing stored). With a
        `guard`, in the same transaction: its idempotency key is claimed (a key another
        submit claimed within `idempotency.WINDOW` raises KeyClaimedError) and its messages
        counted against its caps (passing one raises CapReachedError); nothing is stored
        when either refuses."""

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        """The account's own messages among `ids` (others' ids are simply absent)."""

    async def find_messages(
        self,
        account_id: int,
        *,
        since: datetime | None = None,
        packet_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Message]:
        """The account's messages, newest first, optionally created after `since` or in one
        packet."""

    async def cancel_scheduled(self, account_id: int, server_id: int, now: datetime) -> bool:
        """The account's message `server_id`, if still scheduled (3), becomes -2/604 and its
        price goes back to the balance, in one transaction. False (nothing changed) when it
        is not the account's or no longer scheduled."""

    async def cancel_group(
        self,
        account_id: int,
        now: datetime,
        *,
        packet_id: int | None = None,
        phone: str = "",
        senders: Sequence[str] = (),
    ) -> list[int]:
        """The account's still-scheduled messages of packet `packet_id` (the message of that
        id included), or else those to `phone` from one of `senders` (a name, or a 2WAY
        message's "2WAY"), become -2/604 with their prices refunded, all in one transaction.
        Their ids ([]: none was)."""

    async def replace_scheduled(
        self, account_id: int, server_id: int, price: int, change: Replacement, now: datetime
    ) -> bool:
        """The account's message `server_id`, if still scheduled at `price`, takes `change`
        and the balance pays or gets back the difference, in one transaction. False
        (nothing changed) when it is not, InsufficientFundsError when the balance cannot
        pay the difference (nothing changed)."""


class OutboxStore(Protocol):
    """The pipeline's queue: claims, hand-overs, outcomes, expiry, refusals and receipts."""

    async def release_scheduled(self, now: datetime) -> int:
        """Scheduled messages whose time has come become accepted (3 → 0)."""

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        only: Sequence[str] | None = None,
        shaped: bool = False,
    ) -> list[Message]:
        """Lease up to `limit` due accepted messages to `owner` and mark them as being handed
        over; with `only`, just messages whose route names one of those connectors (a process
        that does not hold a link leaves its messages to the one that does); `shaped`: not of
        accounts whose send bucket is empty until later (`RateStore.take_send_tokens`).
        Two owners never get the same message. If `owner` dies before recording the
        hand-over (or releasing them), the messages stay in doubt and are never claimed
        again: at most one hand-over per message; `end_unknown_handovers` ends them."""

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        """0 → 1 for messages `owner` still leases; returns how many moved."""

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        """Handed-over messages whose known outcome is due take their final status."""

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        """Give back every message `owner` holds and has not handed over (graceful stop, or a
        connector that refused the whole batch), or only those among `ids`: they can be
        claimed again at once."""

    async def expire(self, now: datetime, limit: int) -> int:
        """Messages past their `expires_at` without a final status become -1, error 600;
        not those being handed over (claimed, hand-over not yet recorded): their worker may
        be recording it, else `end_unknown_handovers` ends them."""

    async def end_unknown_handovers(self, lease_before: datetime, now: datetime, limit: int) -> int:
        """Messages in doubt whose lease ran out before `lease_before` (their worker died
        between claim and recorded hand-over) become -1, error 606 (codes.HANDOVER_UNKNOWN),
        still charged: the connector may have sent them. Returns how many."""

    async def refuse(self, owner: str, refusals: Sequence[Refusal], now: datetime) -> int:
        """Apply connectors' refusals of messages `owner` claimed; returns how many applied."""

    async def record_receipts(
        self, connector: str, receipts: Sequence[Receipt], now: datetime
    ) -> int:
        """Apply final part receipts; returns how many matched a part. A receipt for an id no
        hand-over names yet is kept and applied when one does (duplicates change nothing;
        an early receipt's `details` are not kept)."""

    async def pending_parts(self, connector: str, limit: int) -> list[str]:
        """Up to `limit` remote ids of parts `connector` took whose outcome is unknown, of
        messages still handed over (1), oldest message first."""

    async def purge_early_receipts(self, before: datetime) -> int:
        """Forget receipts received before `before` that never matched a message."""
