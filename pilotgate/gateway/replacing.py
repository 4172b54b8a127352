"""Replacing a scheduled message: the customer's use case behind SMPP replace_sm (SMPP 3.4
§4.10; docs/decisions.md "Replacing a scheduled message").

The new text goes through the rules a send's text does (empty 220, too many parts 221, the
account's content filters); the recipient, sender and route stay. The message keeps its
rate per part: another number of parts is charged or refunded the difference in the same
transaction as the change (domain/replacements.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pilotgate.domain import codes, params, protections
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.replacements import Replacement, repriced
from pilotgate.errors import ApiError, InsufficientFundsError

from .sending import Sending


class Replacing(Sending):
    async def replaceable(self, account: Account, server_id: int, sender: str) -> Message:
        """The account's message `server_id` from `sender` (empty: the account's default),
        still scheduled: 302 when the account has no such message, 305 when it is no longer
        scheduled or not an SMS."""
        found = await self.store.messages_by_id(account.id, [server_id])
        name = sender or account.default_sender or self.policy.default_sender
        if not found or name not in (found[0].sender, found[0].sender_orig):
            raise ApiError(302)
        message = found[0]
        if message.status is not Status.SCHEDULED or message.channel != Channel.SMS:
            raise ApiError(codes.NOT_CANCELLABLE)
        return message

    async def replace(
        self,
        account: Account,
        message: Message,
        *,
        text: str,
        when: datetime | None,
        ttl: str | None,
        smpp_receipt: int,
    ) -> Message:
        """`message` (from `replaceable`) with a new text, schedule (`when`; None keeps it, a
        time already come sends it now), validity in minutes (`ttl`; None keeps it) and
        receipt wish, its price difference charged or refunded. 220/221 and the content
        filters' codes for the text, 250 and 270 for the times, 112 when the balance cannot
        pay the difference, 305 when it stopped being scheduled meanwhile."""
        now = self.clock()
        parts = self._parts(text, Channel.SMS)
        filtered = protections.content_error(text, await self.protections(account))
        if filtered:
            raise ApiError(filtered)
        if when is not None:
            when = params.send_datetime(str(int(when.timestamp())), now) or now
        else:
            when = message.send_datetime or now
        minutes = params.ttl(ttl) if ttl is not None else message.ttl
        validity = (
            timedelta(minutes=minutes)
            if minutes
            else timedelta(seconds=self.policy.default_validity_seconds)
        )
        change = Replacement(
            text=text,
            parts=parts,
            price=repriced(message.price, message.parts, parts),
            send_datetime=when,
            ttl=minutes,
            expires_at=when + validity,
            smpp_receipt=smpp_receipt,
        )
        try:
            done = await self.store.replace_scheduled(
                account.id, message.server_id, message.price, change, now
            )
        except InsufficientFundsError:
            raise ApiError(112) from None
        if not done:
            raise ApiError(codes.NOT_CANCELLABLE)
        [replaced] = await self.store.messages_by_id(account.id, [message.server_id])
        return replaced
