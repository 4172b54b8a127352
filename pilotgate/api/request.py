"""Turning an HTTP request into API parameters (contract §2).

Query string and body are merged (body wins). Values are percent-decoded to *bytes* first and
only then decoded with the request's `charset`, so windows-1251, koi8-r or utf-16le clients
get their text back intact. Empty values mean "absent".
"""

from __future__ import annotations

import codecs
import email.parser
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from pilotgate.errors import ApiError

FORMATS = frozenset({"text", "json", "xml", "v"})


@dataclass(frozen=True, slots=True)
class Params:
    """Decoded parameters plus how to answer: format, language, charset."""

    values: Mapping[str, str]
    format: str
    lang: str
    charset: str

    def get(self, name: str) -> str | None:
        """The value, or None when absent or empty."""
        value = self.values.get(name)
        return value if value else None

    def has(self, name: str) -> bool:
        """Present at all (even empty): commands are chosen by presence."""
        return name in self.values


def _urlencoded(raw: bytes) -> list[tuple[str, str]]:
    # latin-1 maps every byte to one code point and back, so the charset decode below sees
    # exactly the bytes the client percent-encoded.
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")


def _pairs_multipart(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """multipart/form-data, which PHP's curl sends when given an array."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    pairs: list[tuple[str, str]] = []
    if not message.is_multipart():
        return pairs
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            pairs.append((name, payload.decode("latin-1")))
    return pairs


def peek_query(query: bytes) -> tuple[str, str, str]:
    """format, lang and a usable charset from the query string alone: how to answer even a
    request whose body cannot be decoded."""
    fmt, lang, charset = peek(dict(_urlencoded(query)))
    return fmt, lang, charset if text_codec(charset) else "utf-8"


def text_codec(name: str) -> str | None:
    """The normalised codec name for `charset=`, or None if Python has no such text codec."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # base64, rot13, zlib…: not a charset
    return info.name


def decode(query: bytes, body: bytes, content_type: str) -> Params:
    """Decode a request; raises ApiError(11) for an unknown charset or undecodable bytes.

    The error still carries the format and language the client asked for (see `peek`).
    """
    pairs = _urlencoded(query)
    ctype = content_type.lower()
    if body:
        if ctype.startswith("multipart/form-data"):
            pairs += _pairs_multipart(body, content_type)
        else:
            pairs += _urlencoded(body)
    raw: dict[str, str] = {}
    for key, value in pairs:
        raw[key.strip().lower()] = value
    fmt, lang, charset_name = peek(raw)
    codec = text_codec(charset_name)
    if codec is None:
        raise ApiError(11, detail=f"unknown charset {charset_name!r}")
    values: dict[str, str] = {}
    for key, value in raw.items():
        try:
            # NUL has no meaning in any parameter and PostgreSQL cannot store it in text:
            # it is dropped (our decision; `send=%00` is then an empty text, error 220).
            values[key] = value.encode("latin-1").decode(codec).replace("\x00", "")
        except UnicodeDecodeError:
            raise ApiError(11, detail=f"parameter {key!r} is not valid {codec}") from None
    return Params(values, fmt, lang, charset_name if codec else "utf-8")


def _ascii_name(raw: Mapping[str, str], key: str) -> str:
    """An ASCII name (json, ru, koi8-r…) from a still-undecoded value. A UTF-16 client encodes
    it too ("j\0s\0o\0n\0"): dropping the NULs reads it in either form."""
    return raw.get(key, "").replace("\x00", "").strip().lower()


def peek(raw: Mapping[str, str]) -> tuple[str, str, str]:
    """format, lang and charset from still-undecoded values (all three are ASCII names)."""
    fmt = _ascii_name(raw, "format")
    lang = _ascii_name(raw, "lang")
    charset = _ascii_name(raw, "charset") or "utf-8"
    return (fmt if fmt in FORMATS else "text", "ru" if lang == "ru" else "en", charset)
