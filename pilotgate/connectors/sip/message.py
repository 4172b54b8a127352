"""SIP messages (RFC 3261 §7), sans-IO: bytes → `SipRequest` / `SipResponse` and back.

Only what a calling user agent needs: the start line, headers kept in order (with the
compact forms of §7.3.3 expanded), and the body. Anything malformed raises `ParseError`,
which the link counts and drops, as a UDP peer's garbage must never end a call by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE = 65536
COMPACT = {
    "v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
    "c": "content-type", "k": "supported", "s": "subject",
}  # fmt: skip
_REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+) SIP/2\.0$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6]\d\d) ?(.*)$")


class ParseError(ValueError):
    """Bytes that are not a SIP message."""


@dataclass(slots=True)
class _Message:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def get(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        wanted = COMPACT.get(name.lower(), name.lower())
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """(number, method) of the CSeq header; ParseError when it is missing or bad."""
        number, _, method = (self.get("cseq") or "").partition(" ")
        if not number.isdigit() or not method.strip():
            raise ParseError("bad or missing CSeq")
        return int(number), method.strip().upper()

    def _encode(self, start: str) -> bytes:
        lines = [start]
        lines += [
            f"{name}: {value}" for name, value in self.headers if name.lower() != "content-length"
        ]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass(slots=True)
class SipRequest(_Message):
    method: str = ""
    uri: str = ""

    def encode(self) -> bytes:
        return self._encode(f"{self.method} {self.uri} SIP/2.0")


@dataclass(slots=True)
class SipResponse(_Message):
    status: int = 0
    reason: str = ""

    def encode(self) -> bytes:
        return self._encode(f"SIP/2.0 {self.status} {self.reason}")


def parse(data: bytes) -> SipRequest | SipResponse:
    """One whole message (a UDP datagram, or what `SipFramer` cut from a TCP stream)."""
    if len(data) > MAX_MESSAGE:
        raise ParseError("message too large")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").lstrip("\n").split("\n")
    start, headers = lines[0], _headers(lines[1:])
    message: SipRequest | SipResponse
    if matched := _STATUS_LINE.match(start):
        message = SipResponse(headers=headers, status=int(matched[1]), reason=matched[2])
    elif matched := _REQUEST_LINE.match(start):
        message = SipRequest(headers=headers, method=matched[1], uri=matched[2])
    else:
        raise ParseError(f"not a SIP start line: {start[:60]!r}")
    length = message.get("content-length")
    if length is not None:
        if not length.strip().isdigit() or int(length) > len(body):
            raise ParseError("bad Content-Length")
        body = body[: int(length)]
    message.body = body
    for name in ("via", "call-id", "cseq", "from", "to"):
        if message.get(name) is None:
            raise ParseError(f"no {name} header")
    message.cseq  # noqa: B018 - validates it
    return message


def _headers(lines: list[str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and headers:  # folded continuation (§7.3.1)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise ParseError(f"bad header line {line[:60]!r}")
        key = name.strip().lower()
        key = COMPACT.get(key, key)
        # Via and the like may carry several values in one line.
        parts = _split_commas(value) if key in ("via", "record-route", "route") else [value]
        headers += [(key, part.strip()) for part in parts]
    return headers


def _split_commas(value: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            depth += 1
        elif char == ">" and not quoted:
            depth -= 1
        elif char == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def uri_of(value: str) -> str:
    """The URI of a name-addr (`"Bob" <sip:bob@host>;tag=1` → `sip:bob@host`)."""
    if "<" in value:
        return value.split("<", 1)[1].split(">", 1)[0].strip()
    return value.split(";", 1)[0].strip()


class SipFramer:
    """Cuts a TCP byte stream into messages by their Content-Length (§18.3)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages: list[bytes] = []
        while True:
            self._buffer = self._buffer.lstrip(b"\r\n")  # keep-alive CRLFs
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_MESSAGE:
                    raise ParseError("header block too large")
                return messages
            matched = re.search(
                rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", self._buffer[:end]
            )
            total = end + 4 + (int(matched[1]) if matched else 0)
            if total > MAX_MESSAGE:
                raise ParseError("message too large")
            if len(self._buffer) < total:
                return messages
            messages.append(self._buffer[:total])
            self._buffer = self._buffer[total:]
