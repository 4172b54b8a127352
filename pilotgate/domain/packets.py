"""The rules of an API-2 document (contract §12): plain values in, the commands it asks for out.

    {"apikey": "…", "from": "SHOP", "test": 1,
     "send": [{"id": 1, "to": 79087964781, "text": "Hi"}, …],
     "check": [{"server_id": "10000"}], "cancel": [{"server_id": "10001"}],
     "balance": "sms", "info": true, "inbound": true}

Whole-document errors (raised as ApiError): 14 no known command, 240 a `send` that is not a
list of items or holds too many, 300/303/304 a `check` (300/303 a `cancel`) without ids, with
too many, or a bad packet id, 500 a bad `since`. Everything wrong with one item stays with
that item: a value of the wrong type gets the error of its field (`FIELD_ERRORS`), a
repeated `id` gets 230.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pilotgate.errors import ApiError

from . import params

#: The error of each send item field whose value has the wrong type (object, list, float…).
FIELD_ERRORS: dict[str, int] = {
    "to": 111,
    "from": 115,
    "text": 220,
    "send_datetime": 250,
    "ttl": 270,
    "callback": 260,
    "callback_method": 260,
}
MAX_CHECK_IDS = 1000
#: The largest client `id` number (a signed 64-bit integer, what clients' own ids fit in).
MAX_CLIENT_ID = 2**63 - 1
#: The longest client `id` string: it is stored with every message of the item.
MAX_ID_CHARS = 256
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One send item: its fields as strings (None when absent), or the error it already has."""

    id: Any = None
    to: str | None = None
    sender: str | None = None
    text: str = ""
    send_datetime: str | None = None
    ttl: str | None = None
    callback: str | None = None
    callback_method: str | None = None
    error: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Commands:
    """What one document asks for; None (or empty) for a command it does not hold."""

    send: list[Item] | None = None
    test: bool = False
    cost: bool = False
    #: (the id as sent, the id or None when it is not one) per checked message.
    check: list[tuple[str, int | None]] | None = None
    check_packet: int | None = None
    #: As `check`: the messages to cancel (contract §7.1, ours).
    cancel: list[tuple[str, int | None]] | None = None
    balance: str | None = None  # "rur" or "sms"
    info: bool = False
    inbound: str | None = None  # "all", "new" or a time, as the gateway's inbound takes it


def credentials(doc: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """apikey, login, password; a value that is not a string is malformed (101 / 401)."""
    apikey, login, password = doc.get("apikey"), doc.get("login"), doc.get("password")
    if apikey is not None and not isinstance(apikey, str):
        raise ApiError(101)
    if any(v is not None and not isinstance(v, str) for v in (login, password)):
        raise ApiError(401)
    return apikey or None, login or None, password or None


def parse(doc: Mapping[str, Any], *, max_items: int) -> Commands:
    """The commands of `doc`, checked as a whole before any of them runs, so a bad `check`
    can never follow a `send` that was already stored."""
    send = _send(doc, max_items) if _asked(doc.get("send")) else None
    check, packet = _check(doc) if _asked(doc.get("check")) else (None, None)
    cancel = _ids(doc["cancel"]) if _asked(doc.get("cancel")) else None
    balance = _balance(doc["balance"]) if _asked(doc.get("balance")) else None
    # `<info/>` in XML is an empty string: asked for, like `"info": true`.
    info = _asked(doc.get("info")) and (doc["info"] == "" or _flag(doc["info"], 14))
    inbound = _inbound(doc) if _asked(doc.get("inbound")) else None
    if not (send or check or packet is not None or cancel or balance or info or inbound):
        raise ApiError(14)
    return Commands(
        send=send,
        test=_flag(doc.get("test"), 240),
        cost=_flag(doc.get("cost"), 240),
        check=check,
        check_packet=packet,
        cancel=cancel,
        balance=balance,
        info=info,
        inbound=inbound,
    )


def _asked(value: Any) -> bool:
    """A command is asked for unless absent, null or false (`"balance": false`)."""
    return value is not None and value is not False


def _flag(value: Any, error: int) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ApiError(error, detail=f"not a flag: {value!r}")


def _scalar_text(value: Any) -> str | None:
    """A string or an integer as text; None for anything else (bool, float, list, object).

    NUL is dropped, as API-1 drops it: it means nothing and PostgreSQL cannot store it."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _send(doc: Mapping[str, Any], max_items: int) -> list[Item]:
    raw = doc["send"]
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise ApiError(240, detail="send must be a list of messages")
    if len(items) > max_items:
        raise ApiError(240, detail=f"more than {max_items} messages")
    defaults = _defaults(doc)
    seen: set[tuple[str, Any]] = set()
    parsed = []
    for entry in items:
        item = _item(entry, defaults)
        key = (type(item.id).__name__, item.id)
        if item.id is not None and not item.error and key in seen:
            item = dataclasses.replace(item, error=230)
        seen.add(key)
        parsed.append(item)
    return parsed


def _defaults(doc: Mapping[str, Any]) -> tuple[dict[str, str | None], int]:
    """The top-level `from` and `callback` as item values, and the error they would give
    every item that does not name its own."""
    values: dict[str, str | None] = dict.fromkeys(FIELD_ERRORS)
    error = 0
    for name in ("from", "callback"):
        value = doc.get(name)
        text = _scalar_text(value)
        if text is None and value not in (None, ""):
            error = error or FIELD_ERRORS[name]
        values[name] = text.strip() if text else None
    return values, error


def _item(entry: Any, defaults: tuple[dict[str, str | None], int]) -> Item:
    if not isinstance(entry, dict):
        return Item(error=240)
    ident = entry.get("id")
    values, error = defaults[0].copy(), defaults[1]
    # Only the keys the item has: most items are just id, to and text (10,000 per packet).
    for name, value in entry.items():
        code = FIELD_ERRORS.get(name)
        if code is None or value is None or value == "":
            continue  # unknown keys are ignored; empty means absent
        text = _scalar_text(value)
        if text is None:
            error = code
            values[name] = None
        else:
            values[name] = text if name == "text" else text.strip()
            if name in ("from", "callback") and error == FIELD_ERRORS[name]:
                error = 0  # its own value replaces a malformed default
    if not _usable_id(ident):
        # Refused whatever else it holds, its other fields echoed; answered with id 0 since
        # the id as sent cannot be (an infinity is not JSON).
        ident, error = None, 230
    return Item(
        id=ident,
        to=values["to"],
        sender=values["from"] or None,
        text=values["text"] or "",
        send_datetime=values["send_datetime"] or None,
        ttl=values["ttl"] or None,
        callback=values["callback"] or None,
        callback_method=values["callback_method"] or None,
        error=error,
    )


def _usable_id(value: Any) -> bool:
    """Whether a client's `id` can be stored and echoed: a scalar, but not a number JSON cannot
    write back (`1e400` reads as infinity), an integer beyond 64 bits or a string over
    `MAX_ID_CHARS` characters (docs/decisions.md)."""
    if isinstance(value, dict | list):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -MAX_CLIENT_ID <= value <= MAX_CLIENT_ID
    return not isinstance(value, str) or len(value) <= MAX_ID_CHARS


def _id(value: Any) -> int | None:
    text = _scalar_text(value)
    text = text.strip() if text else ""
    return int(text) if text.isdigit() and text.isascii() and len(text) < 19 else None


def _check(doc: Mapping[str, Any]) -> tuple[list[tuple[str, int | None]] | None, int | None]:
    raw = doc["check"]
    if raw is True or (isinstance(raw, str) and raw.strip().lower() == "true"):
        packet = _id(doc.get("server_packet_id"))
        if packet is None:
            raise ApiError(304)
        return None, packet
    return _ids(raw), None


def _ids(raw: Any) -> list[tuple[str, int | None]]:
    """A `check` or `cancel` list: server_ids, `{"server_id": …}` objects, one of either, or
    an API-1 style "1,2"."""
    if isinstance(raw, str) and "," in raw:
        raw = [part for part in raw.split(",") if part.strip()]  # "1,2" as API-1 takes it
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        raise ApiError(300)
    if len(entries) > MAX_CHECK_IDS:
        raise ApiError(303)
    ids = []
    for entry in entries:
        value = entry.get("server_id") if isinstance(entry, dict) else entry
        sent = _scalar_text(value)
        ids.append((sent.strip() if sent else "", _id(value)))
    return ids


def _balance(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ApiError(14, detail="balance is true, rur or sms")
    return "sms" if isinstance(value, str) and value.strip().lower() == "sms" else "rur"


def _inbound(doc: Mapping[str, Any]) -> str:
    """`true`/`all` → all, `new` → new; `since` (or a time as the value) → after it."""
    value, since = doc["inbound"], doc.get("since")
    if since not in (None, ""):
        value = since
    if value in (True, 1) or (isinstance(value, str) and value.strip().lower() in ("", "all", "1")):
        return "all"
    text = _scalar_text(value)
    if text is not None and text.strip().lower() == "new":
        return "new"
    if text is None or params.parse_time(text) is None:
        raise ApiError(500)
    return text.strip()
