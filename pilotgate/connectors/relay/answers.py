"""What an upstream API-1 answers, in our terms: pure functions the relay link calls. Each
raises ValueError (or TypeError/AttributeError) for an answer that is not API-1 JSON."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pilotgate.domain import phones, upstream
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.receipts import Receipt

from ..base import MobileOriginated

log = logging.getLogger("pilotgate.connectors.relay")

#: Upstream errors about the message itself: sending it again cannot help. Anything else
#: (110 system error, 112 no money, auth, garbage) is ours or the upstream's to fix, so the
#: message waits in our queue until it works or expires.
PERMANENT = frozenset({111, 115, 200, 201, 204, 212, 213, 214, 215, 220, 221, 223, 226, 243})
#: Upstream errors that say the link itself is unusable (key, account, money, its own
#: failure): they count as failures, so routes fail over to the next connector.
UNHEALTHY = frozenset({100, 101, 102, 105, 106, 107, 110, 112, 113, 400, 401})


def classify(code: int) -> tuple[bool, int]:
    """An upstream `send` error → (final, our error). Final ones keep the upstream's code."""
    if code in PERMANENT:
        return True, code
    return False, 110


def json_object(body: str) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("answer is not a JSON object")
    return data


def error_code(data: Mapping[str, Any]) -> int | None:
    error = data.get("error")
    if error is None:
        return None
    if isinstance(error, dict):
        return int(error.get("code", 110))
    return int(error)


def _items(data: Mapping[str, Any], command: str) -> list[Any]:
    """The list an answer to `command` holds under its name."""
    items = data.get(command)
    if not isinstance(items, list):
        raise ValueError(f"{command} answer without a list")
    return items


def parse_send(body: str) -> str | int:
    """The upstream's `server_id` for our one recipient, or its error code.
    ValueError (and its subclasses) when the answer is not API-1 JSON."""
    data = json_object(body)
    code = error_code(data)
    if code is not None:
        return code
    items = data.get("send")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise ValueError("send answer without exactly one item")
    item = items[0]
    if upstream.to_int(item.get("status"), -2) == -2:
        return upstream.to_int(item.get("error"), 110)
    server_id = str(item.get("server_id", ""))
    if not server_id.isdigit() or server_id == "0":
        raise ValueError(f"bad server_id {server_id!r}")
    return server_id


def parse_send_many(body: str, phones: Sequence[str]) -> dict[str, str | int] | int:
    """For a `send` to several recipients: each phone's upstream `server_id` or error code
    (a phone the answer does not list is absent), or the error code of the whole request
    (the upstream's "more errors than messages" rule, or auth, money…). ValueError (and its
    subclasses) when the answer is not API-1 JSON."""
    data = json_object(body)
    code = error_code(data)
    if code is not None:
        return code
    wanted = set(phones)
    found: dict[str, str | int] = {}
    for item in _items(data, "send"):
        if not isinstance(item, dict) or str(item.get("phone")) not in wanted:
            continue  # not one of ours: never trusted
        phone, server_id = str(item["phone"]), str(item.get("server_id", ""))
        if upstream.to_int(item.get("status"), -2) == -2:
            found[phone] = upstream.to_int(item.get("error"), 110)
        elif server_id.isdigit() and server_id != "0":
            found[phone] = server_id
    return found


def receipt_of(item: Mapping[str, Any]) -> Receipt | None:
    """The receipt an upstream item (of `check`, or a status callback) makes when its status
    is final, with a number check's result fields; None while it is not. ValueError for
    garbage."""
    outcome = upstream.final_outcome(
        upstream.to_int(item.get("status")), upstream.to_int(item.get("error"))
    )
    if outcome is None:
        return None
    return Receipt(
        remote_id=str(item["server_id"]),
        status=outcome[0],
        error=outcome[1],
        details=upstream.result_details(item),
    )


def parse_check(body: str, asked: Sequence[str]) -> list[Receipt]:
    """Final statuses among the `check` answer's items for the ids in `asked`; other ids
    (not ours: another account's, or made up) are ignored. An id the upstream does not know
    (-2, e.g. 302) ends -1 with 603: it will never be delivered through it. ValueError when
    the answer is garbage."""
    data = json_object(body)
    wanted = set(asked)
    code = error_code(data)
    if code is not None:
        if code == 302 and len(asked) == 1:  # a single unknown id is answered as an error
            return [Receipt(remote_id=asked[0], status=Status.UNDELIVERED, error=603)]
        raise ValueError(f"check answered error {code}")
    receipts = []
    for item in _items(data, "check"):
        if not isinstance(item, dict) or str(item.get("server_id")) not in wanted:
            continue
        receipt = receipt_of(item)
        if receipt is not None:
            receipts.append(receipt)
    return receipts


def parse_inbound(body: str) -> list[MobileOriginated]:
    """The upstream's `inbound` items as inbound SMS; `reply_to` is the upstream's id of the
    message an item answers (ours when we relayed it). Items that make no sense are skipped;
    ValueError when the whole answer is garbage."""
    data = json_object(body)
    code = error_code(data)
    if code is not None:
        raise ValueError(f"inbound answered error {code}")
    found = []
    for item in _items(data, "inbound"):
        try:
            received = datetime.strptime(f"{item['created']} +0000", "%Y-%m-%d %H:%M:%S %z")
            reply_to = str(item.get("server_id") or "")
            found.append(
                MobileOriginated(
                    phone=phones.clean(str(item["phone"])),
                    number=phones.clean(str(item["num"])),
                    text=str(item.get("text", "")),
                    received=received,
                    reply_to=reply_to if reply_to.isdigit() and reply_to != "0" else "",
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("relay: an inbound item that is not API-1 skipped: %r", item)
    return found


def remaining_ttl(message: Message, now: datetime) -> int | None:
    """Minutes left of the message's ttl (1..1440), None without one."""
    if message.ttl is None:
        return None
    expires = (message.send_datetime or message.created) + timedelta(minutes=message.ttl)
    return max(1, min(1440, math.ceil((expires - now).total_seconds() / 60)))
