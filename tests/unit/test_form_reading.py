"""API parameters are read from query strings and form bodies by our own loop
(api/request.py `_urlencoded`), faster than parse_qsl: it must read every input exactly as
parse_qsl does, malformed ones included."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings, strategies as st

from pilotgate.api import request

# What makes form parsing interesting: separators, escapes (whole, cut, invalid), plus
# signs, bytes beyond ASCII.
_PIECES = st.sampled_from(
    ["&", "=", "+", "%", "%2", "%20", "%3D", "%26", "%2B", "%zz", "%E9", "%d0%b0", "a", "B", " "]
)
_QUERY = st.lists(
    st.one_of(_PIECES, st.binary(max_size=4).map(lambda b: b.decode("latin-1"))), max_size=20
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_QUERY)
def test_reads_any_query_as_parse_qsl_does(query: str) -> None:
    raw = query.encode("latin-1")
    expected = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    assert request._urlencoded(raw) == expected


def test_a_send_reads_as_sent() -> None:
    raw = request.read(b"send=Hello+world%21&to=79087964781&&format=json&debug", b"", "")
    assert raw == {"send": "Hello world!", "to": "79087964781", "format": "json", "debug": ""}
