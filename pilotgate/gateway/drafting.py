"""What one text decides whatever its recipients (the send rules of contract §5): its
channel and sender, its parts, its schedule, validity and callback, and the account's
content filters."""

from __future__ import annotations

from datetime import datetime, timedelta

from pilotgate.domain import (
    hybrid,
    params,
    protections,
    senders as sender_rules,
    speech,
    text as texts,
)
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import CHECK_TEXTS, SPECIAL_SENDERS, VIBER_MAX_CHARS, Channel
from pilotgate.domain.messages import Status, Template
from pilotgate.errors import ApiError

from .core import VOICE_MAX_CHARS, GatewayCore, SendRequest, _SenderNames


class Drafting(GatewayCore):
    async def _template(
        self,
        account: Account,
        request: SendRequest,
        now: datetime,
        names: _SenderNames,
        guard: protections.Protections,
    ) -> Template:
        """What one text decides whatever its recipients: channel, sender, parts, schedule,
        ttl and callback; errors in the order API-1 has always checked them, then the
        account's content filters (247, 248; contract §17.3)."""
        channel, sender = await self._sender_and_channel(account, request, names)
        parts = self._parts(request.text, channel)
        filtered = protections.content_error(request.text, guard)
        if filtered:
            raise ApiError(filtered)
        fallback = None
        if sender == hybrid.VIBERSMS:
            # The SMS it may become must be possible too: its text must fit an SMS (221).
            fallback = hybrid.Fallback(
                sender=account.default_sender or self.policy.default_sender,
                parts=self._parts(request.text, Channel.SMS),
                price=0,
                route="",
            )
        when = params.send_datetime(request.send_datetime, now) if request.send_datetime else None
        ttl = params.ttl(request.ttl) if request.ttl else None
        callback = params.callback_url(request.callback) if request.callback else None
        method = params.callback_method(request.callback_method or "")
        validity = (
            timedelta(minutes=ttl)
            if ttl
            else timedelta(seconds=self.policy.default_validity_seconds)
        )
        return Template(
            sender=sender,
            text=request.text,
            parts=parts,
            channel=channel,
            status=Status.SCHEDULED if when else Status.ACCEPTED,
            send_datetime=when,
            ttl=ttl,
            callback=callback,
            callback_method=method if callback else None,
            test=request.test,
            expires_at=(when or now) + validity,
            fallback=fallback,
            client_id=request.client_id,
            smpp_receipt=request.smpp_receipt,
        )

    async def _sender_and_channel(
        self, account: Account, request: SendRequest, names: _SenderNames
    ) -> tuple[Channel, str]:
        check_channel = CHECK_TEXTS.get(request.text.strip().upper())
        if check_channel is not None:
            return check_channel, request.text.strip().upper()
        sender = request.sender or account.default_sender or self.policy.default_sender
        special = SPECIAL_SENDERS.get(sender.upper())
        if special is not None:
            return special, sender.upper()
        if not sender_rules.is_valid(sender):
            raise ApiError(115)
        if sender != self.policy.default_sender and not account.any_sender:
            if sender not in await names.approved():
                raise ApiError(204)
        return Channel.SMS, sender

    def _parts(self, text: str, channel: Channel) -> int:
        if not text:
            raise ApiError(220)
        if channel is Channel.SMS:
            # A quick bound first, so a 100 KB text is refused without being cut up.
            if len(text) > self.policy.max_parts * texts.GSM_MULTI:
                raise ApiError(221)
            parts = texts.count_parts(text)
            if parts > self.policy.max_parts:
                raise ApiError(221)
            return parts
        if channel is Channel.FLASHCALL:
            if not (text.isdigit() and text.isascii() and 4 <= len(text) <= 6):
                raise ApiError(221, detail="a flash call code is 4-6 digits")
        elif channel is Channel.VIBER and len(text) > VIBER_MAX_CHARS:
            raise ApiError(221)
        elif channel is Channel.VOICE and len(text) > VOICE_MAX_CHARS:
            raise ApiError(221)
        elif channel is Channel.VOICE and speech.too_long(text, self.policy.voice_max_seconds):
            raise ApiError(221, detail="the speech would take too long")
        return 1
