"""Status and inbound callbacks as HTTP requests (contract §8), decided without I/O.

    url = "https://user:pw@example.com/sms-status.php?fields=message,modified&shop=7"
    request = build(url, "get", status_params(message, 2, 0, extra_fields(url)), secret)
    # GET https://example.com/sms-status.php?shop=7&server_id=…&phone=…&status=2&error=0
    #     &message=…&modified=…   Authorization: Basic …   X-PilotGate-Signature: <hex>

Our decisions: the URL's own query parameters are kept, except `fields`, which names what
to add and is not sent back; the signature is HMAC-SHA256 with the account's callback secret
over exactly the bytes that carry the parameters (the POST body, or the query string of a
GET); retries start after 10 s and double up to a cap, until the job is older than the
configured age (24 h by default), then the job is given up.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pilotgate.domain import addresses, checks, codes, money
from pilotgate.domain.messages import Message

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SIGNATURE_HEADER = "X-PilotGate-Signature"

#: What `fields=` inside a callback URL may add (contract §8); `all` adds every one.
EXTRA_FIELDS: tuple[str, ...] = (
    "message",
    "sender",
    "sender_orig",
    "created",
    "modified",
    "country",
    "operator",
    "parts",
    "price",
    "send_datetime",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """Everything needed to make the call; `url` carries no user:password any more."""

    method: str  # "GET" or "POST"
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    first: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=25)


def _when(value: datetime | None) -> str:
    return value.strftime(TIME_FORMAT) if value else ""


# Cached: an account's callback URL is the same for each of its messages' two callbacks, and
# parsing it again (query, IDNA host, basic auth) was a tenth of building each request.
@functools.lru_cache(maxsize=1024)
def extra_fields(url: str) -> tuple[str, ...]:
    """The extra fields a callback URL asks for with its own `fields=` parameter."""
    asked: list[str] = []
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "fields":
            asked += [name.strip().lower() for name in value.split(",") if name.strip()]
    if "all" in asked:
        return EXTRA_FIELDS
    return tuple(name for name in dict.fromkeys(asked) if name in EXTRA_FIELDS)


def status_params(
    message: Message, status: int, error: int, fields: tuple[str, ...]
) -> list[tuple[str, str]]:
    """server_id, phone, status, error (+ texts when error ≠ 0), the result fields of a
    number check (HLR, PING: always, contract §13.1), then the asked extras."""
    params = [
        ("server_id", str(message.server_id)),
        ("phone", message.phone),
        ("status", str(status)),
        ("error", str(error)),
    ]
    if error:
        params += [("error_en", codes.english(error)), ("error_ru", codes.russian(error))]
    params += checks.result_items(message.channel, status, message.details)
    values = {
        "message": message.text,
        "sender": message.sender,
        "sender_orig": message.sender_orig,
        "created": _when(message.created),
        "modified": _when(message.modified),
        "country": message.country,
        "operator": message.operator,
        "parts": str(message.parts),
        "price": money.format(message.price),
        "send_datetime": _when(message.send_datetime),
    }
    return params + [(name, values[name]) for name in fields]


def inbound_params(
    inbound_id: int, phone: str, num: str, text: str, created: datetime, server_id: int | None
) -> list[tuple[str, str]]:
    """The fields of an inbound SMS, as `inbound=` lists them (contract §10)."""
    return [
        ("id", str(inbound_id)),
        ("phone", phone),
        ("num", num),
        ("text", text),
        ("created", _when(created)),
        ("server_id", str(server_id) if server_id else ""),
    ]


def sender_params(sender_id: int, name: str, state: str, reason: str) -> list[tuple[str, str]]:
    """An operator's verdict on a requested sender name (contract §11: "the verdict is sent
    to the callback"): the `id`, `name` and `state` that `list=senders` shows, and why."""
    return [("id", str(sender_id)), ("name", name), ("state", state), ("reason", reason)]


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class _Target:
    """What a callback URL itself decides: where to call and with which fixed headers."""

    scheme: str
    netloc: str
    path: str
    own: tuple[tuple[str, str], ...]
    auth: str | None


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    own = tuple(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != "fields"
    )
    netloc = addresses.ascii_host(parts.hostname or "")
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    auth = None
    if parts.username is not None:
        # Basic auth from user:password@ in the URL (contract §8); never sent in the URL itself.
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return _Target(parts.scheme, netloc, parts.path or "/", own, auth)


def build(url: str, method: str, params: list[tuple[str, str]], secret: str) -> HttpRequest:
    """The HTTP request for one callback; ValueError when the URL's host has no IDNA form
    (`params.callback_url` refuses such URLs, but rows stored before it did may remain)."""
    target = _target(url)  # a ValueError is not cached: raised again for the next job
    headers = {"User-Agent": "PilotGate"}
    if target.auth is not None:
        headers["Authorization"] = target.auth
    if method.lower() == "post":
        body = urlencode(params).encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers[SIGNATURE_HEADER] = sign(secret, body)
        where = urlunsplit((target.scheme, target.netloc, target.path, urlencode(target.own), ""))
        return HttpRequest(method="POST", url=where, body=body, headers=headers)
    query = urlencode([*target.own, *params])
    headers[SIGNATURE_HEADER] = sign(secret, query.encode("ascii"))
    where = urlunsplit((target.scheme, target.netloc, target.path, query, ""))
    return HttpRequest(method="GET", url=where, body=b"", headers=headers)


def next_attempt(
    attempts: int, created: datetime, now: datetime, policy: RetryPolicy
) -> datetime | None:
    """When to try again after `attempts` failed tries, or None to give up."""
    delay: timedelta = min(policy.first * (2 ** max(attempts - 1, 0)), policy.cap)
    when: datetime = now + delay
    if when - created > policy.give_up_after:
        return None
    return when
