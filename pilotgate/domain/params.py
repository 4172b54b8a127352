"""Pure parsers for the send parameters whose rules COMPAT §5.1 fixes. Each returns the
value or raises ApiError with the catalogue code."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from pilotgate.errors import ApiError

#: Every field a message can show (COMPAT §5.6), in the order `all` lists them.
ALL_FIELDS: tuple[str, ...] = (
    "server_id",
    "phone",
    "price",
    "status",
    "sender",
    "sender_orig",
    "created",
    "modified",
    "parts",
    "country",
    "operator",
    "error",
    "error_en",
    "error_ru",
    "message",
    "send_datetime",
)
DEFAULT_FIELDS: tuple[str, ...] = ("server_id", "phone", "price", "status")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_URL_LENGTH = 2048


def parse_time(value: str) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` (UTC) or a unix timestamp → aware UTC datetime, else None."""
    value = value.strip()
    if value.isdigit() and value.isascii():
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def send_datetime(value: str, now: datetime) -> datetime | None:
    """The schedule time, or None when it is not in the future (send now).

    More than 60 s in the past, unparseable, or more than a year ahead → 250.
    """
    when = parse_time(value)
    if when is None or when < now - timedelta(seconds=60) or when > now + timedelta(days=366):
        raise ApiError(250)
    return when if when > now else None


def ttl(value: str) -> int:
    """Minutes 1..1440, else 270."""
    value = value.strip()
    if not (value.isdigit() and value.isascii()) or not 1 <= int(value) <= 1440:
        raise ApiError(270)
    return int(value)


def callback_url(value: str) -> str:
    """An absolute http(s) URL with a host, else 260. Where it may point is checked by the
    pipeline's callback policy, not here."""
    if len(value) > MAX_URL_LENGTH or any(ord(char) < 0x21 for char in value):
        raise ApiError(260)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ApiError(260) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ApiError(260)
    del port
    try:  # a host no resolver can be asked about (an empty label, one over 63 characters)
        parts.hostname.encode("idna")
    except UnicodeError:
        raise ApiError(260) from None
    return value


def callback_method(value: str) -> str:
    """`get` (default) or `post`; our decision: anything else is a bad callback (260)."""
    method = value.strip().lower() or "get"
    if method not in ("get", "post"):
        raise ApiError(260)
    return method


def fields(value: str) -> tuple[str, ...]:
    """A comma list of field names or `all`; an unknown name → 275."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if not names:
        return DEFAULT_FIELDS
    if "all" in names:
        return ALL_FIELDS
    for name in names:
        if name not in ALL_FIELDS:
            raise ApiError(275)
    return tuple(dict.fromkeys(names))


def ip_allowed(client_ip: str, allow_list: str) -> bool:
    """True when the allow-list is empty or `client_ip` falls in one of its entries
    (addresses or networks, comma-separated)."""
    entries = [entry.strip() for entry in allow_list.split(",") if entry.strip()]
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def bad_networks(allow_list: str) -> list[str]:
    """The entries of an allow-list that are neither an address nor a network."""
    bad = []
    for entry in (item.strip() for item in allow_list.split(",")):
        if not entry:
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            bad.append(entry)
    return bad
