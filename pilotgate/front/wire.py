"""Request heads as bytes, before and after the HTTP parser (pure functions, no I/O).

llhttp, uvicorn's parser, refuses bytes outside printable ASCII in the request target, and
uvicorn's URL splitter stores offsets in 16 bits (a target over 65,535 bytes is a 400). nginx
in front of smspilot.ru accepts both, and clients written against it send raw UTF-8 or
windows-1251 text and 10,000 recipients in one GET. So the target is percent-encoded here
before the parser sees it (the charset decoding of the API then applies unchanged), and split
here instead of by the parser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The end of a head: an empty line (CRLF, or a bare LF from a sloppy client).
HEAD_END = re.compile(rb"\r?\n\r?\n")
#: `METHOD SP target SP HTTP/x.y`; the target is everything between the first space and the
#: last " HTTP/", so spaces inside it are kept, as nginx keeps them.
_REQUEST_LINE = re.compile(rb"([!-~]+) (.+) (HTTP/\d\.\d)\r?", re.S)
#: Bytes a target may not hold as they are: controls, space, DEL, everything >= 0x80, and '#'
#: (no client sends a fragment; a '#' in an unencoded text is part of the text).
_UNSAFE = re.compile(rb"[^!-~]|#")


def quote_target(target: bytes) -> bytes:
    """`target` with every unsafe byte percent-encoded; safe bytes and existing escapes kept."""
    return _UNSAFE.sub(lambda match: b"%%%02X" % match[0][0], target)


def repair_head(head: bytes) -> bytes:
    """The head with its request target made acceptable to llhttp. A first line that is not
    a request line at all is left alone (the parser refuses it: that is not HTTP)."""
    line, newline, rest = head.partition(b"\n")
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        return head
    method, target, version = match.groups()
    return b"%s %s %s\r%s%s" % (method, quote_target(target), version, newline, rest)


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """(path, query) of an origin-form or absolute-form target (`http://host/p?q`)."""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        _, _, authority_and_path = target.partition(b"//")
        slash = authority_and_path.find(b"/")
        target = authority_and_path[slash:] if slash >= 0 else b"/"
    path, _, query = target.partition(b"?")
    return path or b"/", query


def partial_request(head: bytes) -> tuple[str, bytes, bytes]:
    """(method, path, query) from the start of a head that was cut off: as much of the
    request as arrived, so that a refusal can still answer in the format that was asked."""
    line = head.partition(b"\n")[0].rstrip(b"\r")
    method, _, target = line.partition(b" ")
    target = re.sub(rb" HTTP/\d\.\d$", b"", target)
    path, query = split_target(quote_target(target))
    return method.decode("ascii", errors="replace") or "GET", path, query


def body_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    """Bytes of body after the head: the Content-Length, 0 without one, None when the body
    is chunked (its end is known only to the parser). llhttp has already refused a malformed
    or doubled Content-Length."""
    length = 0
    for name, value in headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            length = int(value)
    return length


class ChunkedScanner:
    """Finds where a chunked body ends, so that the bytes after it (a pipelined request) are
    read as a head. The parser checks the framing; this only counts it."""

    #: A chunk-size line (with extensions) or trailer line longer than this is refused.
    MAX_LINE = 64 * 1024

    def __init__(self) -> None:
        self._state = "size"  # "size" line, chunk "data" (+ its CRLF), or "trailer" lines
        self._left = 0
        self._line = bytearray()

    def scan(self, data: bytes) -> int | None:
        """How many bytes of `data` end the body, or None when all of it belongs to the body
        and more is to come. ValueError for a line over MAX_LINE."""
        at = 0
        while at < len(data):
            if self._state == "data":
                take = min(self._left, len(data) - at)
                at += take
                self._left -= take
                if not self._left:
                    self._state = "size"
                continue
            newline = data.find(b"\n", at)
            self._line += data[at:] if newline < 0 else data[at:newline]
            if len(self._line) > self.MAX_LINE:
                raise ValueError("chunk line too long")
            if newline < 0:
                return None
            at = newline + 1
            line = bytes(self._line).strip()
            self._line.clear()
            if self._state == "trailer":
                if not line:
                    return at
            elif (size := _chunk_size(line)) == 0:
                self._state = "trailer"
            else:
                self._state, self._left = "data", size + 2  # the chunk and its CRLF
        return None


def _chunk_size(line: bytes) -> int:
    """The size of a chunk-size line; a malformed one counts as 0 (the parser refuses it)."""
    try:
        return int(line.partition(b";")[0].strip(), 16)
    except ValueError:
        return 0
