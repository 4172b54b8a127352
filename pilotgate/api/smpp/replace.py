"""replace_sm of a bound session (SMPP 3.4 §4.10): the gateway's `replace`, for a message
still scheduled (docs/smpp.md "PilotGate as an SMSC", docs/decisions.md "Replacing a
scheduled message").

The message is named by message_id and source_addr together (empty source_addr: the
account's default sender, as a submit_sm's). replace_sm carries no data_coding: its
short_message is read in the coding the original text travels in (GSM 03.38 unpacked when
every character of it is GSM-7, else UCS-2), as SMPP says the original's data_coding
applies. An empty schedule_delivery_time or validity_period keeps the message's own; a
relative validity counts from the schedule, as in a submit_sm.
"""

from __future__ import annotations

import math
from datetime import datetime

from pilotgate.domain import (
    deliver_sm,
    smpp_pdu as p,
    smpp_queries as q,
    smpp_rules as rules,
    smpp_time,
    sms_encoding as enc,
    text as texts,
)
from pilotgate.errors import ApiError
from pilotgate.gateway import Gateway

from . import asking

#: Refusals worded for replace_sm where they differ from a submit_sm's (smpp_rules).
STATUS_OF_ERROR = {302: rules.ESME_RINVMSGID, 305: rules.ESME_RREPLACEFAIL}


async def replace(gateway: Gateway, account_id: int, pdu: p.Pdu) -> bytes:
    """The replace_sm_resp (or generic_nack for a body that does not read) of `pdu`."""
    asked = asking.read(pdu, q.replace_request)
    if isinstance(asked, bytes):
        return asked
    ref, server_id = asked.request, asked.server_id
    assert server_id is not None  # read() insists on one by default

    async def work() -> bytes | int:
        account = await gateway.smpp_account(account_id)
        message = await gateway.replaceable(account, server_id, ref.source)
        coding = 0x00 if texts.encoding_of(message.text) is texts.Encoding.GSM7 else 0x08
        fragment = enc.parse_mo(ref.short_message, coding, 0, ())
        if fragment.lossy:
            return rules.ESME_RX_P_APPN
        now = gateway.clock()
        when = _time(ref.schedule, now, 250)
        await gateway.replace(
            account,
            message,
            text=fragment.text,
            when=when,
            ttl=_minutes(_time(ref.validity, now, 270), when or message.send_datetime, now),
            smpp_receipt=deliver_sm.receipt_wanted(ref.registered_delivery),
        )
        return b""

    return await asking.answer(pdu, account_id, work(), STATUS_OF_ERROR)


def _time(value: str, now: datetime, error: int) -> datetime | None:
    try:
        return smpp_time.parse(value, now)
    except ValueError:
        raise ApiError(error) from None


def _minutes(until: datetime | None, start: datetime | None, now: datetime) -> str | None:
    """The validity `until` as the minutes a send's `ttl` counts from its schedule (None:
    keep the message's own; 0 and beyond 1440 are refused 270 by the send rules)."""
    if until is None:
        return None
    minutes = math.ceil((until - max(start or now, now)).total_seconds() / 60)
    return str(max(minutes, 0))
