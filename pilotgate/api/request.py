"""Turning an HTTP request into API parameters (contract §2).

Query string and body are merged (body wins). Values are percent-decoded to *bytes* first and
only then decoded with the request's `charset`, so windows-1251, koi8-r or utf-16le clients
get their text back intact. Empty values mean "absent".
"""

from __future__ import annotations

import codecs
import email.parser
import email.policy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

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
    """What `parse_qsl(…, keep_blank_values=True, encoding="latin-1")` gives (a test holds
    them equal), in a third of its time: every API request reads its query through here,
    and parse_qsl's generality (coercions, checks, an unquote call per name and value) was
    a few percent of a single send's CPU (docs/performance.md)."""
    # latin-1 maps every byte to one code point and back, so the charset decode later sees
    # exactly the bytes the client percent-encoded.
    pairs: list[tuple[str, str]] = []
    for field in raw.decode("latin-1").split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, encoding="latin-1")
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, encoding="latin-1")
        pairs.append((name, value))
    return pairs


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


#: The charsets `charset=` may name, as Python's codec names: the Unicode forms and the
#: single-byte and CJK character sets clients actually send (smspilot.ru itself documents
#: utf-8 and windows-1251). Python knows more codecs by name, but `idna`, `punycode`,
#: `undefined`, `unicode_escape`, `utf-7` and the like are transformations, not charsets: they
#: cannot encode every answer (500) or make no sense for a Content-Type (docs/decisions.md).
CHARSETS = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "ascii"}
    | {f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)}
    | {f"cp{n}" for n in range(1250, 1259)}
    | {"koi8-r", "koi8-u", "koi8-t", "cp866", "cp855", "mac-cyrillic", "kz1048"}
    | {"shift_jis", "cp932", "euc_jp", "gb2312", "gbk", "gb18030", "big5", "euc_kr", "cp949"}
)
#: A label is echoed in the Content-Type header and the XML declaration, so it must be an
#: XML EncName (which is also an HTTP token): `utf 8` or `utf\n8` would break either.
_LABEL = re.compile(r"[a-z][a-z0-9._-]{0,39}")


@functools.lru_cache(maxsize=256)
def text_codec(label: str) -> str | None:
    """The codec name for `charset=`, or None when the label names no charset we accept.
    Cached (a few labels serve nearly every request): each API call asks twice, and the
    pattern and the codec registry lookup cost more than the rest of `style`."""
    if not _LABEL.fullmatch(label):
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return name if name in CHARSETS else None


def read(query: bytes, body: bytes, content_type: str) -> dict[str, str]:
    """The request's parameters, still undecoded (one latin-1 character per byte): query and
    body merged, the body winning, names stripped and lower-cased."""
    pairs = _urlencoded(query)
    if body:
        parts = []
        if content_type.lower().startswith("multipart/form-data"):
            parts = _pairs_multipart(body, content_type)
        # A body that is no multipart whatever its header says (no boundary, or the wrong
        # one) is read as a form, as bodies of any other type are.
        pairs += parts or _urlencoded(body)
    return {key.strip().lower(): value for key, value in pairs}


def style(raw: Mapping[str, str]) -> tuple[str, str, str]:
    """format, lang and a usable charset (utf-8 when the one named is refused): how to answer,
    even a request whose values then fail to decode."""
    fmt, lang, charset = peek(raw)
    return fmt, lang, charset if text_codec(charset) else "utf-8"


def decode(raw: Mapping[str, str]) -> Params:
    """Decode the values of `read`; ApiError(11) for a refused charset or undecodable bytes.
    The caller answers that error as `style` says."""
    fmt, lang, charset_name = peek(raw)
    codec = text_codec(charset_name)
    if codec is None:
        raise ApiError(11, detail=f"unknown charset {charset_name[:40]!r}")
    values: dict[str, str] = {}
    utf8 = codec == "utf-8"
    for key, value in raw.items():
        if utf8 and value.isascii():
            # ASCII bytes are the same characters in UTF-8: no round trip through bytes.
            values[key] = value.replace("\x00", "")
            continue
        try:
            # NUL has no meaning in any parameter and PostgreSQL cannot store it in text:
            # it is dropped (our decision; `send=%00` is then an empty text, error 220).
            values[key] = value.encode("latin-1").decode(codec).replace("\x00", "")
        except UnicodeDecodeError:
            raise ApiError(11, detail=f"parameter {key[:40]!r} is not valid {codec}") from None
    return Params(values, fmt, lang, charset_name)


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
