"""Cancelling a scheduled message: the customer's use case behind API-1 `cancel` and SMPP
cancel_sm (docs/decisions.md "Cancelling a scheduled message")."""

from __future__ import annotations

from pilotgate.domain import codes
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Message
from pilotgate.errors import ApiError

from .core import GatewayCore


class Cancelling(GatewayCore):
    async def cancel(self, account: Account, server_id: int) -> Message:
        """The account's message `server_id`, cancelled: -2/604 and its price refunded, in
        one transaction. ApiError 302 when it is not the account's (or does not exist), 305
        when it is no longer scheduled (queued, sent, ended, or cancelled already)."""
        if not await self.store.messages_by_id(account.id, [server_id]):
            raise ApiError(302)
        if not await self.store.cancel_scheduled(account.id, server_id, self.clock()):
            raise ApiError(codes.NOT_CANCELLABLE)
        [message] = await self.store.messages_by_id(account.id, [server_id])
        return message

    async def balance(self, account: Account) -> int:
        """The account's balance now, in kopecks (after refunds made since `account` was
        read)."""
        fresh = await self.store.account(account.id)
        return account.balance if fresh is None else fresh.balance
