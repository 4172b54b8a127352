"""Cancelling scheduled messages: the customer's use case behind API-1 `cancel` and SMPP
cancel_sm (docs/decisions.md "Cancelling a scheduled message", and "One id for a
submit_multi" for what a cancel_sm's id names)."""

from __future__ import annotations

from pilotgate.domain import codes, phones
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

    async def cancel_submit(self, account: Account, server_id: int) -> list[int]:
        """What SMPP's `server_id` names, cancelled: the message of that id and, when it is
        the first of a submit of several (a submit_multi), the whole submit's still-scheduled
        messages, in one transaction. Their ids; 302 when the id is not the account's, 305
        when none of them is still scheduled."""
        if not await self.store.messages_by_id(account.id, [server_id]):
            raise ApiError(302)
        cancelled = await self.store.cancel_group(account.id, self.clock(), packet_id=server_id)
        if not cancelled:
            raise ApiError(codes.NOT_CANCELLABLE)
        return cancelled

    async def cancel_to(self, account: Account, phone: str, sender: str) -> list[int]:
        """Every still-scheduled message of the account to `phone` from `sender` (empty: the
        account's default sender, as a submit_sm would use), cancelled in one transaction:
        their ids. The phone's error (108, 111...) when it is not one; 305 when no message
        matches."""
        if not phone.strip():
            raise ApiError(108)
        checked = phones.check(phone)
        if checked.error:
            raise ApiError(checked.error)
        name = sender or account.default_sender or self.policy.default_sender
        cancelled = await self.store.cancel_group(
            account.id, self.clock(), phone=checked.phone, senders=[name]
        )
        if not cancelled:
            raise ApiError(codes.NOT_CANCELLABLE)
        return cancelled

    async def balance(self, account: Account) -> int:
        """The account's balance now, in kopecks (after refunds made since `account` was
        read)."""
        fresh = await self.store.account(account.id)
        return account.balance if fresh is None else fresh.balance
