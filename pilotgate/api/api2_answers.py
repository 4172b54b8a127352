"""API-2's answer items with their value types (contract §12): numbers for status, error,
parts, price, balance and cost; strings for `server_id`; `send_datetime` always a string;
the client's `id` echoed as sent. And the answer written as JSON or as XML (a list's members
as `<sms>` or `<item>`)."""

from __future__ import annotations

import json
from typing import Any

from pilotgate.domain import checks, packets
from pilotgate.domain.messages import Draft, Message

from . import render

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def money(kopecks: int) -> int | float:
    """A JSON number of rubles. Only here does money meet a float: below 10**15 kopecks (15
    significant digits) the shortest repr of kopecks / 100 is exactly that decimal ("2.96")."""
    return kopecks // 100 if kopecks % 100 == 0 else kopecks / 100


#: json.dumps(…, ensure_ascii=False) with the encoder built once: dumps with any option
#: builds a new encoder per call, which for the ids of a 10,000-item packet cost more than
#: its whole JSON answer (docs/performance.md).
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode


def stored_id(ident: Any) -> str:
    """The client's `id` as JSON text, kept with its message; '' when it gave none."""
    if ident is None:
        return ""
    if type(ident) is int:
        return int.__repr__(ident)  # what the encoder writes for an int, without its setup
    return _JSON_TEXT(ident)


def _echoed_id(ident: Any) -> Any:
    """The client's `id` as it is answered: as sent, or 0 when it gave none (the API-2
    document's own example answers an item without `id` with `"id": 0`)."""
    return 0 if ident is None else ident


def sent(item: packets.Item, server_id: int, draft: Draft) -> dict[str, Any]:
    # One literal rather than _message plus a text: 10,000 of these per packet.
    return {
        "id": _echoed_id(item.id),
        "server_id": str(server_id),
        "from": draft.sender,
        "to": draft.phone,
        "text": draft.text,
        "parts": draft.parts,
        "status": int(draft.status),
        "error": draft.error,
        "send_datetime": render.when(draft.send_datetime),
        "country": draft.country,
        "operator": draft.operator,
        "price": money(draft.price),
    }


def failed(item: packets.Item, code: int) -> dict[str, Any]:
    """A refused item: never stored (server_id "0"), its fields echoed as sent."""
    sender, to, when = item.sender or "", item.to or "", item.send_datetime or ""
    return {"id": _echoed_id(item.id), **_refused("0", code, sender, to, when, item.text)}


def _refused(
    server_id: str, code: int, sender: str, to: str, when: str, text: str | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {"server_id": server_id, "from": sender, "to": to}
    if text is not None:
        row["text"] = text
    return row | {
        "parts": 0,
        "status": -2,
        "error": code,
        "send_datetime": when,
        "country": "",
        "operator": "",
        "price": 0,
    }


def unknown(server_id: str, code: int) -> dict[str, Any]:
    """A check item that names no message of the caller: a check item's keys, all empty."""
    return {
        "id": 0,
        "server_id": server_id,
        "from": "",
        "to": "",
        "parts": 0,
        "status": -2,
        "error": code,
        "send_datetime": "",
        "modified": "",
        "country": "",
        "operator": "",
        "price": 0,
    }


def message(server_id: str, m: Message) -> dict[str, Any]:
    """A stored message in a check answer: the fields of a send item but `text`, its `id`
    the one the client gave at send time (0 for none, or a message sent through API-1), and
    `modified`, when its status last changed; an HLR or PING check also carries its result
    fields, as in API-1."""
    item: dict[str, Any] = {
        "id": json.loads(m.client_id) if m.client_id else 0,
        "server_id": server_id,
        "from": m.sender,
        "to": m.phone,
        "parts": m.parts,
        "status": int(m.status),
        "error": m.error,
        "send_datetime": render.when(m.send_datetime),
        "modified": render.when(m.modified),
        "country": m.country,
        "operator": m.operator,
        "price": money(m.price),
    }
    item.update(checks.result_items(m.channel, int(m.status), m.details))
    return item


def encode(answer: dict[str, Any], xml: bool) -> render.HttpAnswer:
    if not xml:
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        return render.HttpAnswer(text.encode("utf-8"), JSON_TYPE)
    body = "".join(_xml(key, value) for key, value in answer.items())
    text = f"{render.XML_HEAD.format('utf-8')}<response>{body}</response>"
    return render.HttpAnswer(text.encode("utf-8"), XML_TYPE)


def _xml(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(key, item) for key, item in value.items())
    elif isinstance(value, list):
        member = "sms" if tag in ("send", "check", "inbound") else "item"
        inner = "".join(_xml(member, item) for item in value)
    elif value is None or isinstance(value, bool):
        inner = "" if value is None else str(int(value))
    else:
        inner = render.escape(str(value))
    return f"<{tag}>{inner}</{tag}>"
