"""submit_sm → the gateway's `send`, the same use case as API-1 (contract §5): one
recipient, `source_addr` as the sender, the SMPP times as `send_datetime` and `ttl`.

A long message arrives as parts (UDH or SAR TLVs) and is sent as ONE message, priced and
numbered once, when its last part is in. Each part's submit_sm_resp waits for that moment and
carries the message's server_id, so no part is acknowledged before the message is committed;
parts that never complete are answered ESME_RX_T_APPN after `part_wait` seconds
(docs/decisions.md "A long SMPP message is one message").
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pilotgate.domain import deliver_sm, smpp_rules as rules, smpp_time, sms_encoding as enc
from pilotgate.domain.accounts import Account
from pilotgate.errors import ApiError, GatewayError
from pilotgate.gateway import Gateway, SendRequest

from .codec import Submission

log = logging.getLogger(__name__)

#: data_coding values whose text PilotGate reads: the SMSC default alphabet (GSM 03.38,
#: unpacked), IA5/ASCII, Latin-1 and UCS-2.
CODINGS = frozenset({0x00, 0x01, 0x03, 0x08})
Outcome = tuple[int, str]  # (command_status, message_id)
#: A submit_multi's: (command_status, the group's message_id, each destination's status).
Outcomes = tuple[int, str, list[int]]
_T = TypeVar("_T")


@dataclass(slots=True)
class _Long:
    started: float
    parts: dict[int, str] = field(default_factory=dict)
    #: The first receipt wish among the parts: Kannel sets registered_delivery on the first
    #: part only, others on every part; the joined message is sent with the last part's
    #: fields, so without this a long message from Kannel never got its receipt.
    registered: int = 0
    #: What its parts are answered when the rest never comes (ESME_RX_T_APPN).
    failed: Any = None
    waiting: list[asyncio.Future[Any]] = field(default_factory=list)


class Submitter:
    """One bound session's submits on behalf of its account."""

    def __init__(
        self,
        gateway: Gateway,
        account_id: int,
        *,
        part_wait: float,
        clock: Callable[[], float],
        source: str = "",
    ) -> None:
        self._gateway, self._account_id = gateway, account_id
        #: The bind's client address (its trusted proxy's PROXY header's, else the peer's):
        #: the SMS-pumping rules count per address as for HTTP.
        self._source = source
        self._part_wait, self._clock = part_wait, clock
        self._long: dict[tuple[str, str, int, int], _Long] = {}
        self._account_read: asyncio.Task[Account] | None = None

    async def submit(self, submission: Submission) -> Outcome:
        return await self._joined(
            submission, submission.destination, self._send, lambda status: (status, "")
        )

    async def submit_multi(self, submission: Submission, destinations: Sequence[str]) -> Outcomes:
        """One text to several destinations as ONE packet (docs/decisions.md "One id for a
        submit_multi"): each destination judged alone, the accepted ones stored and debited
        together and named by the packet's id. A long text's parts are joined first, as a
        submit_sm's are."""
        count = len(destinations)

        async def send(joined: Submission, text: str) -> Outcomes:
            return await self._send_packet(joined, destinations, text)

        return await self._joined(
            submission, "\n".join(destinations), send, lambda status: (status, "", [status] * count)
        )

    async def _joined(
        self,
        submission: Submission,
        where: str,
        send: Callable[[Submission, str], Awaitable[_T]],
        failed: Callable[[int], _T],
    ) -> _T:
        """`send` of the text of `submission`, or of the long message it is a part of once
        its last part is in (every part's caller gets that outcome); `failed(status)` when the
        text cannot be read."""
        if submission.data_coding not in CODINGS:
            return failed(rules.ESME_RX_P_APPN)
        fragment = enc.parse_mo(
            submission.short_message,
            submission.data_coding,
            submission.esm_class,
            submission.tlvs,
        )
        if fragment.lossy:
            return failed(rules.ESME_RX_P_APPN)
        if fragment.reference is None or fragment.total <= 1:
            return await send(submission, fragment.text)
        key = (submission.source, where, fragment.reference, fragment.total)
        long = self._long.setdefault(key, _Long(self._clock(), failed=failed))
        long.parts[fragment.seq] = fragment.text
        long.registered = long.registered or submission.registered_delivery
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        long.waiting.append(waiter)
        if len(long.parts) == fragment.total:
            del self._long[key]
            text = "".join(long.parts[i] for i in sorted(long.parts))
            joined = submission._replace(registered_delivery=long.registered)
            outcome = await send(joined, text)
            for other in long.waiting:
                if not other.done():
                    other.set_result(outcome)
        return await waiter

    def expire(self) -> None:
        """Answer the parts of long messages that waited too long for the rest."""
        now = self._clock()
        for key, long in list(self._long.items()):
            if now - long.started >= self._part_wait:
                del self._long[key]
                for waiter in long.waiting:
                    if not waiter.done():
                        waiter.set_result(long.failed(rules.ESME_RX_T_APPN))

    async def _send(self, submission: Submission, text: str) -> Outcome:
        try:
            request = self._request(submission, text, self._gateway.clock(), self._source)
            account = await self._account()
            result = await self._gateway.send(account, request)
        except ApiError as error:
            return rules.status_of(error.code), ""
        except GatewayError:
            log.exception("SMPP submit_sm of account %d failed", self._account_id)
            return rules.ESME_RSYSERR, ""
        server_id, _ = result.items[0]
        return rules.ESME_ROK, str(server_id)

    async def _send_packet(
        self, submission: Submission, destinations: Sequence[str], text: str
    ) -> Outcomes:
        try:
            now = self._gateway.clock()
            requests = [
                self._request(submission._replace(destination=where), text, now)
                for where in destinations
            ]
            account = await self._account()
            result = await self._gateway.send_packet(account, requests)
        except ApiError as error:
            status = rules.status_of(error.code)
            return status, "", [status] * len(destinations)
        except GatewayError:
            log.exception("SMPP submit_multi of account %d failed", self._account_id)
            return rules.ESME_RSYSERR, "", [rules.ESME_RSYSERR] * len(destinations)
        statuses = [
            rules.status_of(item) if isinstance(item, int) else rules.ESME_ROK
            for item in result.items
        ]
        if rules.ESME_ROK not in statuses:
            return statuses[0], "", statuses
        return rules.ESME_ROK, str(result.packet_id), statuses

    async def _account(self) -> Account:
        """The bound account as it is now, read once for the submit_sm that arrived before
        that read began (a window of 50 arrives in bursts: one read instead of up to 50,
        5 % of the serving process's CPU). A read already under way is never shared: a block
        committed before a submit_sm arrived still refuses it."""
        if self._account_read is None:
            self._account_read = asyncio.ensure_future(self._read_account())
            # Its waiters may all be gone (the session closed): the outcome is still read.
            self._account_read.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(self._account_read)

    async def _read_account(self) -> Account:
        self._account_read = None  # from here on, a new submit_sm waits for a new read
        return await self._gateway.smpp_account(self._account_id)

    @staticmethod
    def _request(submission: Submission, text: str, now: datetime, source: str = "") -> SendRequest:
        try:
            when = smpp_time.parse(submission.schedule, now)
        except ValueError:
            raise ApiError(250) from None
        try:
            until = smpp_time.parse(submission.validity, now)
        except ValueError:
            raise ApiError(270) from None
        ttl = None
        if until is not None:
            minutes = math.ceil((until - max(when or now, now)).total_seconds() / 60)
            ttl = str(max(minutes, 0))  # 0 and beyond 1440 minutes: 270 from the send rules
        return SendRequest(
            text=text,
            to=submission.destination,
            sender=submission.source or None,
            send_datetime=str(int(when.timestamp())) if when else None,
            ttl=ttl,
            smpp_receipt=deliver_sm.receipt_wanted(submission.registered_delivery),
            source=source,
        )
