"""API-1 answers in the four formats (contract §4): json (all values strings), xml (escaped),
text (lines joined by a single \\n, no trailing newline) and v (one bare value).

Money becomes "1.31" here and times "YYYY-MM-DD HH:MM:SS" UTC; nowhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from xml.sax import saxutils

from pilotgate.domain import checks, codes, money, rates
from pilotgate.domain.messages import Draft, Message
from pilotgate.domain.params import ALL_FIELDS, TIME_FORMAT

CONTENT_TYPES = {
    "json": "application/json",
    "xml": "text/xml",
    "text": "text/plain",
    "v": "text/plain",
}
XML_HEAD = '<?xml version="1.0" encoding="{}"?>\n'
#: Characters XML 1.0 cannot hold at all, not even as references: shown as U+FFFD, so the
#: document stays well-formed whatever a client put in a text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
Item = dict[str, str]


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    body: bytes
    content_type: str
    #: Every API answer is 200 but a refusal for the account's rate (contract §17.5).
    status: int = 200
    retry_after: int | None = None


def escape(value: str) -> str:
    return saxutils.escape(_NOT_XML.sub("\ufffd", value))


def quoteattr(value: str) -> str:
    return saxutils.quoteattr(_NOT_XML.sub("\ufffd", value))


def when(value: datetime | None) -> str:
    return value.strftime(TIME_FORMAT) if value else ""


def encode(text: str, fmt: str, charset: str) -> HttpAnswer:
    """Encode in the client's charset; characters it cannot hold become references (XML) or
    "?" (text) rather than an error."""
    errors = "xmlcharrefreplace" if fmt == "xml" else "replace"
    return HttpAnswer(
        text.encode(charset, errors=errors), f"{CONTENT_TYPES[fmt]}; charset={charset}"
    )


#: Built once: `json.dumps` with separators builds a new encoder on every call (~1 µs of a
#: single send's answer).
_UNICODE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ASCII_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def _json(value: object, charset: str) -> str:
    return (_UNICODE_JSON if charset.startswith("utf") else _ASCII_JSON).encode(value)


def _xml_head(charset: str) -> str:
    return XML_HEAD.format(charset)


def _attrs(item: Mapping[str, str]) -> str:
    return " ".join(f"{key}={quoteattr(value)}" for key, value in item.items())


def quoted(value: str) -> str:
    """A text-format value that may hold commas or newlines: in double quotes, "" inside."""
    return '"' + value.replace('"', '""') + '"'


def one_line(value: str) -> str:
    return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def too_fast(retry_after: int, fmt: str, lang: str, charset: str) -> HttpAnswer:
    """The error answer of a request past the account's rate (223), as HTTP 429 with
    `Retry-After`: a client that reads the body sees an error as for any other, one that
    looks at the status first sees a failed request, never a success (docs/decisions.md)."""
    answer = error(rates.TOO_FAST, fmt, lang, charset)
    return replace(answer, status=429, retry_after=retry_after)


def error(code: int, fmt: str, lang: str, charset: str) -> HttpAnswer:
    en, ru = codes.english(code), codes.russian(code)
    if fmt == "json":
        body = _json(
            {"error": {"code": str(code), "description": en, "description_ru": ru}}, charset
        )
    elif fmt == "xml":
        body = (
            f"{_xml_head(charset)}<error><code>{code}</code><description>{escape(en)}"
            f"</description><description_ru>{escape(ru)}</description_ru></error>"
        )
    elif fmt == "v":
        body = ru if lang == "ru" else en
    else:
        body = f"ERROR={code}: {ru if lang == 'ru' else en.upper()}"
    return encode(body, fmt, charset)


# messages ------------------------------------------------------------------------------------
AnyMessage = Draft | Message
_GETTERS: dict[str, Callable[[int, AnyMessage, datetime | None], str]] = {
    "server_id": lambda server_id, m, at: str(server_id),
    "phone": lambda server_id, m, at: m.phone,
    "price": lambda server_id, m, at: money.format(m.price),
    "status": lambda server_id, m, at: str(int(m.status)),
    "sender": lambda server_id, m, at: m.sender,
    "sender_orig": lambda server_id, m, at: m.sender_orig,
    "created": lambda server_id, m, at: when(getattr(m, "created", at)),
    "modified": lambda server_id, m, at: when(getattr(m, "modified", at)),
    "parts": lambda server_id, m, at: str(m.parts),
    "country": lambda server_id, m, at: m.country,
    "operator": lambda server_id, m, at: m.operator,
    "error": lambda server_id, m, at: str(m.error),
    "error_en": lambda server_id, m, at: codes.english(m.error) if m.error else "",
    "error_ru": lambda server_id, m, at: codes.russian(m.error) if m.error else "",
    "message": lambda server_id, m, at: m.text,
    "send_datetime": lambda server_id, m, at: when(m.send_datetime),
}


def message_item(
    server_id: int, message: AnyMessage, fields: Sequence[str], *, created: datetime | None = None
) -> Item:
    """The `fields` of one message as strings, plus the error trio when it failed. A draft
    just stored has no times of its own: `created` stands for both of them. A number check
    (HLR, PING) also carries its result fields when stored (check) or with `fields=all`."""
    item = {name: _GETTERS[name](server_id, message, created) for name in fields}
    if message.error:
        item.setdefault("error", str(message.error))
        item.setdefault("error_en", codes.english(message.error))
        item.setdefault("error_ru", codes.russian(message.error))
    if isinstance(message, Message) or fields == ALL_FIELDS:
        details = message.details if isinstance(message, Message) else {}
        item.update(checks.result_items(message.channel, int(message.status), details))
    return item


def missing_item(server_id: str) -> Item:
    """An id the caller does not own or that does not exist (error 302)."""
    return {
        "server_id": server_id,
        "phone": "",
        "price": "0.00",
        "status": "-2",
        "error": "302",
        "error_en": codes.english(302),
        "error_ru": codes.russian(302),
    }


def _text_row(item: Item) -> str:
    return ",".join(item.get(key, "") for key in ("server_id", "phone", "price", "status"))


def send(
    items: list[Item], *, cost: int, balance: int, packet_id: int, fmt: str, charset: str
) -> HttpAnswer:
    cost_s, balance_s = money.format(cost), money.format(balance)
    if fmt == "json":
        body = _json(
            {
                "send": items,
                "balance": balance_s,
                "cost": cost_s,
                "server_packet_id": str(packet_id),
            },
            charset,
        )
    elif fmt == "xml":
        rows = "".join(f"<sms {_attrs(item)}/>\n" for item in items)
        body = (
            f'{_xml_head(charset)}<send balance="{balance_s}" cost="{cost_s}" '
            f'server_packet_id="{packet_id}">\n{rows}</send>'
        )
    elif fmt == "v":
        body = str(packet_id)
    else:
        lines = [f"SUCCESS=SMS SENT {cost_s}/{balance_s}", *(_text_row(i) for i in items)]
        body = "\n".join(lines)
    return encode(body, fmt, charset)


def cost(amount: int, fmt: str, charset: str) -> HttpAnswer:
    value = money.format(amount)
    if fmt == "json":
        return encode(_json({"cost": value}, charset), fmt, charset)
    if fmt == "xml":
        return encode(f"{_xml_head(charset)}<cost>{value}</cost>", fmt, charset)
    return encode(value, fmt, charset)


def check(items: list[Item], fmt: str, charset: str) -> HttpAnswer:
    if fmt == "json":
        body = _json({"check": items}, charset)
    elif fmt == "xml":
        rows = "".join(f"<sms {_attrs(item)}/>\n" for item in items)
        body = f"{_xml_head(charset)}<check>\n{rows}</check>"
    elif fmt == "v":
        body = "\n".join(item["status"] for item in items)
    else:
        body = "\n".join(_text_row(item) for item in items)
    return encode(body, fmt, charset)


def scalar(name: str, value: str, fmt: str, charset: str) -> HttpAnswer:
    """A one-value answer such as the balance."""
    if fmt == "json":
        return encode(_json({name: value}, charset), fmt, charset)
    if fmt == "xml":
        return encode(f"{_xml_head(charset)}<{name}>{escape(value)}</{name}>", fmt, charset)
    return encode(value, fmt, charset)


def info(values: Mapping[str, str], fmt: str, charset: str) -> HttpAnswer:
    if fmt == "json":
        body = _json(dict(values), charset)
    elif fmt == "xml":
        rows = "".join(f"<{key}>{escape(value)}</{key}>\n" for key, value in values.items())
        body = f"{_xml_head(charset)}<info>\n{rows}</info>"
    elif fmt == "v":
        body = values["balance"]
    else:
        body = "\n".join(
            ["SUCCESS=APIKEY INFO", *(f"{key}={one_line(value)}" for key, value in values.items())]
        )
    return encode(body, fmt, charset)


def inbound(items: Iterable[Item], fmt: str, charset: str) -> HttpAnswer:
    rows = list(items)
    if fmt == "json":
        body = _json({"inbound": rows}, charset)
    elif fmt == "xml":
        lines = "".join(
            "<sms {}>{}</sms>\n".format(
                _attrs({k: v for k, v in row.items() if k != "text"}), escape(row["text"])
            )
            for row in rows
        )
        body = f"{_xml_head(charset)}<inbound>\n{lines}</inbound>"
    else:
        body = "\n".join(
            f"{row['id']},{row['phone']},{row['num']},{quoted(row['text'])},"
            f"{quoted(row['created'])}"
            for row in rows
        )
    return encode(body, fmt, charset)


def listing(
    root: str, tag: str, items: list[Item], text_keys: Sequence[str], fmt: str, charset: str
) -> HttpAnswer:
    """A list of flat records (sender names): JSON list, XML elements, text CSV lines."""
    if fmt == "json":
        body = _json({root: items}, charset)
    elif fmt == "xml":
        rows = "".join(f"<{tag} {_attrs(item)}/>\n" for item in items)
        body = f"{_xml_head(charset)}<{root}>\n{rows}</{root}>"
    elif fmt == "v":
        body = "\n".join(item[text_keys[0]] for item in items)
    else:
        body = "\n".join(",".join(item[key] for key in text_keys) for item in items)
    return encode(body, fmt, charset)
