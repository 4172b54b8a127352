"""Column lists and row mappers, once for both databases. A mapper takes the driver's `time`
to read stored times; booleans come back as 0/1 from SQLite, hence `bool()`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pilotgate.domain import checks
from pilotgate.domain.accounts import Account, AccountState
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.senders import SenderState

from ..base import CallbackJob, ConnectorInfo, InboundSms, Sender
from .driver import Row

Time = Callable[[Any], datetime]

#: What `submit` writes; reads add the columns the pipeline fills in later.
INSERT_COLUMNS = (
    "id, packet_id, account_id, phone, sender, sender_orig, text, parts, channel, price, "
    "status, error, send_datetime, ttl, callback, callback_method, created, modified, "
    "country, operator, test, route, ping_route"
)
MESSAGE_COLUMNS = INSERT_COLUMNS + ", details, client_id"
ACCOUNT_COLUMNS = (
    "id, email, password_hash, name, phone, tariff_id, default_sender, any_sender, allow_ip, "
    "state, referrer_id, balance, created, status_url, status_method, inbound_url, "
    "callback_secret, loop_window"
)
SENDER_COLUMNS = "id, account_id, name, state, description, callback, created"
INBOUND_COLUMNS = "id, account_id, phone, num, text, created, server_id"
CALLBACK_COLUMNS = "id, kind, account_id, ref, url, method, status, error, attempts, created"

#: Ids are 64-bit in both databases; a larger number names nothing, so it is simply not found.
MAX_ID = 2**63 - 1


def ids_within(ids: Sequence[int]) -> list[int]:
    """The ids a 64-bit column can hold: the others name nothing, and would fail the
    statement rather than find nothing."""
    return [i for i in ids if -MAX_ID <= i <= MAX_ID]


def account(row: Row, time: Time) -> Account:
    return Account(
        id=row[0],
        email=row[1],
        password_hash=row[2],
        name=row[3],
        phone=row[4],
        tariff_id=row[5],
        default_sender=row[6],
        any_sender=bool(row[7]),
        allow_ip=row[8],
        state=AccountState(row[9]),
        referrer_id=row[10],
        balance=row[11],
        created=time(row[12]),
        status_url=row[13],
        status_method=row[14],
        inbound_url=row[15],
        callback_secret=row[16],
        loop_window=row[17],
    )


def message(row: Row, time: Time) -> Message:
    return Message(
        server_id=row[0],
        packet_id=row[1],
        account_id=row[2],
        phone=row[3],
        sender=row[4],
        sender_orig=row[5],
        text=row[6],
        parts=row[7],
        channel=row[8],
        price=row[9],
        status=Status(row[10]),
        error=row[11],
        send_datetime=None if row[12] is None else time(row[12]),
        ttl=row[13],
        callback=row[14],
        callback_method=row[15],
        created=time(row[16]),
        modified=time(row[17]),
        country=row[18],
        operator=row[19],
        test=bool(row[20]),
        route=row[21],
        ping_route=row[22],
        details=checks.decode(row[23]),
        client_id=row[24],
    )


def sender(row: Row, time: Time) -> Sender:
    return Sender(
        id=row[0],
        account_id=row[1],
        name=row[2],
        state=SenderState(row[3]),
        description=row[4],
        callback=row[5],
        created=time(row[6]),
    )


def callback(row: Row, time: Time) -> CallbackJob:
    return CallbackJob(
        id=row[0],
        kind=row[1],
        account_id=row[2],
        ref=row[3],
        url=row[4],
        method=row[5],
        status=row[6],
        error=row[7],
        attempts=row[8],
        created=time(row[9]),
    )


def inbound(row: Row, time: Time) -> InboundSms:
    return InboundSms(
        id=row[0],
        account_id=row[1],
        phone=row[2],
        num=row[3],
        text=row[4],
        created=time(row[5]),
        server_id=row[6],
    )


CONNECTOR_COLUMNS = "name, kind, settings, enabled, mps, handed, heartbeat, state"


def connector(row: Row, time: Time) -> ConnectorInfo:
    return ConnectorInfo(
        name=row[0],
        kind=row[1],
        settings=row[2],
        enabled=bool(row[3]),
        mps=row[4],
        handed=row[5],
        heartbeat=None if row[6] is None else time(row[6]),
        state=row[7],
    )
