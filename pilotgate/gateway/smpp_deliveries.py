"""The deliver_sm owed to customers' receiving SMPP binds (receipts and inbound SMS): what a
bind claims, what it reports back, and the validity sweep. The rows are written by the
database in the same transaction as the final status or the inbound SMS (migration 0018);
the SMPP server calls these and never the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from pilotgate.domain import deliver_sm
from pilotgate.domain.deliver_sm import Owed

from .core import GatewayCore


class SmppDeliveries(GatewayCore):
    async def claim_deliveries(
        self, account_id: int, owner: str, *, lease_seconds: float, limit: int
    ) -> list[Owed]:
        """Up to `limit` deliver_sm due to the account, leased to `owner` (a bind): if the
        process dies with them, the lease runs out and any bind of the account takes them."""
        now = self.clock()
        until = now + timedelta(seconds=lease_seconds)
        return await self.store.claim_smpp_deliveries(account_id, owner, now, until, limit)

    async def deliveries_answered(self, owner: str, ids: Sequence[int]) -> int:
        """The client answered these with status 0: they are done."""
        return await self.store.finish_smpp_deliveries(owner, ids)

    async def deliveries_refused(self, owner: str, owed: Sequence[Owed], error: str) -> int:
        """Answered with an error, not answered, or the bind went away: each goes again
        after its backoff (`deliver_sm.retry_after`)."""
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for item in owed:
            by_attempts[item.attempts].append(item.id)
        now, changed = self.clock(), 0
        for attempts, ids in by_attempts.items():
            due = now + timedelta(seconds=deliver_sm.retry_after(attempts))
            changed += await self.store.retry_smpp_deliveries(owner, ids, due, error)
        return changed

    async def deliveries_returned(self, owner: str, owed: Sequence[Owed]) -> int:
        """Never sent (the bind closed first): due again at once, for the next bind."""
        ids = [item.id for item in owed]
        return await self.store.retry_smpp_deliveries(owner, ids, self.clock(), "not sent")

    async def drop_stale_deliveries(self, validity: timedelta) -> int:
        """Drop what waited longer than `validity` (no bind took it); how many."""
        return await self.store.drop_smpp_deliveries(self.clock() - validity)

    async def deliveries_waiting(self) -> dict[int, int]:
        """deliver_sm owed per account id."""
        return await self.store.smpp_deliveries_waiting()
