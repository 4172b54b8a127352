"""Property-based fuzzing of the API over HTTP (issue 12, "Must show"): API-1 by GET, form
and multipart, API-2 by JSON and XML, against the real server.

Whatever a request holds, the answer is HTTP 200 on a connection that stays up, a
well-formed document in the format the request asked for (JSON parses, XML parses, text
is one `ERROR=NNN: …` line when it is an error), in the charset its Content-Type names,
and never error 110 (an unexpected exception inside the server).

Seeded (`derandomize`) and bounded: `PILOTGATE_FUZZ_EXAMPLES` (default 60) examples per
test and backend. Run it wider locally with e.g. `PILOTGATE_FUZZ_EXAMPLES=2000`.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from .support import TELE2, Account, Server

EXAMPLES = int(os.environ.get("PILOTGATE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests on every run: CI failures reproduce
    database=None,
    deadline=None,  # a send's commit time is not what is tested here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Requests sent, for the closing note (printed with `-s`).
SENT = {"api1": 0, "api2": 0}

FORMATS = {"json": "application/json", "xml": "text/xml", "text": "text/plain", "v": "text/plain"}
LABEL = re.compile(r"[a-z][a-z0-9._-]*")
XML_DECL = re.compile(r'<\?xml version="1\.0" encoding="([^"]*)"\?>\n')
TEXT_ERROR = re.compile(r"ERROR=(\d+): [^\n]+")

# API-1 ----------------------------------------------------------------------------------------
CHARSETS = [
    "utf-8", "UTF-8", "utf8", "windows-1251", "cp1251", "koi8-r", "utf-16le", "utf-16",
    "utf-32", "iso-8859-5", "shift_jis", "latin-1", "ascii", "idna", "undefined", "base64",
    "rot13", "utf-7", "punycode", "unicode_escape", "utf 8", "utf\n8", "x-unknown", "",
    "utf-8\x00", "u\x00t\x00f\x00-\x008\x00",
]  # fmt: skip
FORMAT_VALUES = ["json", "xml", "text", "v", "JSON", " xml ", "", "yaml", "j\x00s\x00o\x00n\x00"]
MEANINGFUL: dict[str, list[str]] = {
    "send": ["Hi", "Привет, мир", "HLR", "PING", "x" * 800, "😀", "1234", "\x00", ""],
    "to": [TELE2, f"{TELE2},79161234567", "8 (908) 796-47-81", "abc", "7" * 30, "", ","],
    "from": ["INFORM", "GOLOS", "FLASHCALL", "VIBER", "2WAY", "X" * 20, "Имя", ""],
    "check": ["all", "recent", "packet", "10000", "10000,10001", "-1", "x", "9" * 30, ""],
    "balance": ["rur", "sms", "", "x"],
    "inbound": ["all", "new", "2024-01-01 00:00:00", "1700000000", "x", ""],
    "list": ["senders", "x"],
    "add_sender": ["SHOP", "Магазин", "!!", "X" * 30],
    "description": ["site", ""],
    # Fixed values only: a host name would be resolved, and a malformed host (`a..b`) is
    # another slice of issue 12.
    "callback": ["", "http://127.0.0.1:9/cb", "ftp://x", "a@b.cd", "not a url"],
    "callback_method": ["get", "post", "put", ""],
    "fields": ["all", "server_id,message", "x,,y", ""],
    "limit": ["1", "-1", "abc", "9" * 30, "１"],
    "offset": ["0", "-5", "9" * 30],
    "id": ["10000", "x", "-1"],
    "send_datetime": ["2030-01-01 10:00:00", "1700000000", "31.12.2030", "9" * 30, ""],
    "ttl": ["5", "0", "-1", "99999", "x"],
    "test": ["1", "0", "x"],
    "cost": ["1", "0"],
    "lang": ["ru", "en", "xx"],
}
#: `format` and `charset` decide how the answer is written: drawn more often than the rest.
KEYS = ["format", "charset"] * 3 + list(MEANINGFUL)


def _encodings(text: str) -> st.SearchStrategy[bytes]:
    def encode(name: str) -> bytes:
        try:
            return text.encode(name)
        except (UnicodeError, LookupError):
            return text.encode("utf-8")

    return st.sampled_from(["utf-8", "windows-1251", "koi8-r", "utf-16le"]).map(encode)


def _value(key: str) -> st.SearchStrategy[bytes]:
    known = {"format": FORMAT_VALUES, "charset": CHARSETS}.get(key) or MEANINGFUL[key]
    return st.one_of(
        st.sampled_from(known).flatmap(_encodings),
        st.text(max_size=40).flatmap(_encodings),
        st.binary(max_size=40),
    )


PAIRS = st.lists(
    st.sampled_from(KEYS).flatmap(lambda key: st.tuples(st.just(key), _value(key))),
    max_size=8,
)
#: Query-string debris that can spell no parameter name (no letters but a-f).
JUNK = st.text(alphabet="%&=;+ 0123456789abcdefABCDEF-_.~", max_size=12)


def _urlencode(pairs: list[tuple[str, bytes]]) -> str:
    return "&".join(f"{key}={quote_from_bytes(value, safe='')}" for key, value in pairs)


def _asked(pairs: list[tuple[str, bytes]], key: str) -> str:
    """The value the server must take for `key`: the last one; names are ASCII, compared
    without NULs (a UTF-16 client), surrounding blanks or case (contract §2)."""
    values = [value for name, value in pairs if name == key]
    return values[-1].decode("latin-1").replace("\x00", "").strip().lower() if values else ""


@pytest.fixture(scope="module")
def fuzzed(gate: Server) -> Iterator[Account]:
    """An account of its own, rich enough that the fuzzing never runs out of money and never
    spends the demo account's."""
    yield gate.create_account(balance="100000000.00")
    print(f"\nfuzz: {SENT['api1']} API-1 and {SENT['api2']} API-2 requests")


@pytest.fixture(scope="module")
def post(gate: Server, http: httpx.Client) -> Callable[..., httpx.Response]:
    def send(path: str, **kwargs: Any) -> httpx.Response:
        SENT["api2" if path == "/api2.php" else "api1"] += 1
        # Any transport error (a dropped connection) fails the test here.
        answer = http.request(kwargs.pop("method", "POST"), gate.url + path, **kwargs)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        assert answer.headers.get("access-control-allow-origin") == "*"
        return answer

    return send


def _check_api1(answer: httpx.Response, fmt: str) -> None:
    mime, _, charset = answer.headers["content-type"].partition("; charset=")
    assert mime == FORMATS[fmt], (fmt, answer.headers["content-type"], answer.content[:200])
    assert LABEL.fullmatch(charset), charset
    text = answer.content.decode(charset)  # strict: every byte in the charset it names
    if fmt == "json":
        document = json.loads(text, parse_constant=_not_json)
        assert isinstance(document, dict), text
        assert document.get("error", {}).get("code") != "110", text
    elif fmt == "xml":
        declaration = XML_DECL.match(text)
        assert declaration and declaration.group(1) == charset, text[:100]
        root = ET.fromstring(text[declaration.end() :])
        assert root.tag != "error" or root.findtext("code") != "110", text
    elif text.startswith("ERROR="):
        error = TEXT_ERROR.fullmatch(text)
        assert error and error.group(1) != "110", text
    else:
        assert text != "System error" and text != "Системная ошибка", text


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def _key(account: Account) -> st.SearchStrategy[list[tuple[str, bytes]]]:
    """The fuzzed account's key (mostly), a malformed one, or none."""
    return st.sampled_from(
        [[("apikey", account.key.encode())]] * 4 + [[("apikey", b"X" * 64)], [("apikey", b"")], []]
    )


@FUZZ
@given(data=st.data())
def test_api1_get(
    fuzzed: Account, post: Callable[..., httpx.Response], data: st.DataObject
) -> None:
    pairs = data.draw(_key(fuzzed)) + data.draw(PAIRS)
    query = _urlencode(pairs) + "&" + data.draw(JUNK)
    fmt = _asked(pairs, "format")
    answer = post(f"/api.php?{query}", method="GET")
    _check_api1(answer, fmt if fmt in FORMATS else "text")


@FUZZ
@given(data=st.data())
def test_api1_form(
    fuzzed: Account, post: Callable[..., httpx.Response], data: st.DataObject
) -> None:
    query = data.draw(PAIRS)
    body = data.draw(_key(fuzzed)) + data.draw(PAIRS)
    content_type = data.draw(
        st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "text/plain",
                "",
                "x/y; charset=z",
                # No multipart at all: the body is still read as a form.
                "multipart/form-data",
                "multipart/form-data; boundary=zz",
            ]
        )
    )
    headers = {"content-type": content_type} if content_type else {}
    content = (_urlencode(body) + "&" + data.draw(JUNK)).encode()
    answer = post(f"/api.php?{_urlencode(query)}", content=content, headers=headers)
    fmt = _asked(query + body, "format")  # the body wins
    _check_api1(answer, fmt if fmt in FORMATS else "text")


@FUZZ
@given(data=st.data())
def test_api1_multipart(
    fuzzed: Account, post: Callable[..., httpx.Response], data: st.DataObject
) -> None:
    query = data.draw(PAIRS)
    body = data.draw(_key(fuzzed)) + data.draw(PAIRS)
    # httpx draws a boundary no value holds; one value per name (a later one would win).
    fields = {key: (None, value) for key, value in body}
    answer = post(f"/api.php?{_urlencode(query)}", files=fields or {"x": (None, b"")})
    fmt = _asked(query + [(key, value) for key, (_, value) in fields.items()], "format")
    _check_api1(answer, fmt if fmt in FORMATS else "text")


# API-2 ----------------------------------------------------------------------------------------
#: Numbers JSON may hold but a float or a 64-bit integer cannot (the `1e400` of issue 12).
RAW_NUMBERS = ["1e400", "-1e400", "1E+999", "123456789012345678901234567890", "-0.0", "1e-400"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from([TELE2, "INFORM", "2030-01-01 10:00:00", "http://127.0.0.1:9/cb", "sms"]),
    st.sampled_from(RAW_NUMBERS).map(lambda raw: f"\x00raw:{raw}\x00"),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
FIELDS = ["id", "to", "text", "from", "send_datetime", "ttl", "callback", "callback_method"]
ITEM = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)
COMMANDS: dict[str, st.SearchStrategy[Any]] = {
    "send": st.lists(ITEM, max_size=4) | ITEM | VALUES,
    "check": st.lists(st.fixed_dictionaries({"server_id": VALUES}) | VALUES, max_size=3) | VALUES,
    "server_packet_id": VALUES,
    "balance": st.sampled_from([True, "rur", "sms", False]) | VALUES,
    "info": st.sampled_from([True, 1]) | VALUES,
    "inbound": st.sampled_from([True, "new"]) | VALUES,
    "since": VALUES,
    "from": VALUES,
    "callback": st.sampled_from(["", "http://127.0.0.1:9/cb"]),
    "test": st.sampled_from([1, 0, "1", "x"]),
    "cost": st.sampled_from([1, 0]),
    "lang": st.sampled_from(["ru", "en"]),
}


def _document(account: Account) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from([{"apikey": account.key}] * 4 + [{"apikey": "X" * 64}, {}])
    commands = st.fixed_dictionaries({}, optional=COMMANDS)
    return st.tuples(keys, commands).map(lambda pair: {**pair[0], **pair[1]})


def _json_text(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, ensure_ascii=False)
    return re.sub(r'"\\u0000raw:([^\\"]+)\\u0000"', r"\1", text)


def _xml_text(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml_text(_xml_name(key), item) for key, item in value.items())
    elif isinstance(value, list):
        inner = "".join(_xml_text("sms", item) for item in value)
    else:
        raw = "" if value is None else str(value).replace("\x00raw:", "").replace("\x00", "")
        inner = raw.replace("&", "&amp;").replace("<", "&lt;")
        inner = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", inner)
    return f"<{tag}>{inner}</{tag}>"


def _xml_name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "", key)
    return name if name[:1].isalpha() else f"k{name}"


XML_ENCODINGS = ["utf-8", "windows-1251", "koi8-r", "x-unknown", "idna", "utf-16", "shift_jis"]
MUTATIONS = st.sampled_from(["none", "none", "none", "truncate", "doctype", "entity", "junk"])


def _mutate(raw: bytes, how: str, cut: int) -> bytes:
    if how == "truncate":
        return raw[: cut % (len(raw) + 1)]
    if how == "doctype":
        return b'<!DOCTYPE r [<!ENTITY x "y">]>' + raw
    if how == "entity":
        return raw.replace(b"</", b"&x;</", 1)
    if how == "junk":
        return raw + b"\xff\x00{<"
    return raw


def _expects_xml(body: bytes) -> bool:
    """Where API-2 finds the document (contract §12): a body starting with `<` is XML."""
    return body.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _check_api2(answer: httpx.Response, xml: bool) -> None:
    content_type = answer.headers["content-type"]
    if xml:
        assert content_type == "text/xml; charset=utf-8", (content_type, answer.text)
        root = ET.fromstring(answer.content)
        assert root.tag in ("response", "error"), answer.text
        assert root.findtext("code") != "110", answer.text
        return
    assert content_type == "application/json; charset=utf-8", (content_type, answer.text)
    document = json.loads(answer.content.decode("utf-8"), parse_constant=_not_json)
    assert document.get("error", {}).get("code") != "110", answer.text
    for item in document.get("send", []):
        assert item["id"] is not None, item  # "id": 0 for an item without one


@FUZZ
@given(data=st.data())
def test_api2_json(
    fuzzed: Account, post: Callable[..., httpx.Response], data: st.DataObject
) -> None:
    raw = _json_text(data.draw(_document(fuzzed))).encode()
    raw = _mutate(raw, data.draw(MUTATIONS), data.draw(st.integers(0, 10_000)))
    way = data.draw(st.sampled_from(["body", "body", "bom", "form", "multipart", "query"]))
    if way in ("body", "bom"):
        body = codecs.BOM_UTF8 + raw if way == "bom" else raw
        _check_api2(post("/api2.php", content=body), _expects_xml(body))
    elif way == "form":
        answer = post("/api2.php", content=b"json=" + quote_from_bytes(raw, safe="").encode())
        _check_api2(answer, False)
    elif way == "multipart":
        _check_api2(post("/api2.php", files={"json": (None, raw)}), False)
    else:
        _check_api2(post(f"/api2.php?json={quote_from_bytes(raw, safe='')}"), False)


@FUZZ
@given(data=st.data())
def test_api2_xml(
    fuzzed: Account, post: Callable[..., httpx.Response], data: st.DataObject
) -> None:
    doc = data.draw(_document(fuzzed))
    encoding = data.draw(st.sampled_from(XML_ENCODINGS))
    text = f'<?xml version="1.0" encoding="{encoding}"?>{_xml_text("request", doc)}'
    try:
        raw = text.encode(encoding, errors="xmlcharrefreplace")
    except (LookupError, UnicodeError):
        raw = text.encode("utf-8")
    raw = _mutate(raw, data.draw(MUTATIONS), data.draw(st.integers(0, 10_000)))
    if data.draw(st.booleans()):
        _check_api2(post("/api2.php", content=raw), _expects_xml(raw))
    else:
        answer = post("/api2.php", content=b"xml=" + quote_from_bytes(raw, safe="").encode())
        _check_api2(answer, bool(raw.strip()))


@FUZZ
@given(body=st.binary(max_size=200), content_type=st.sampled_from(["", "multipart/form-data"]))
def test_api2_bytes(post: Callable[..., httpx.Response], body: bytes, content_type: str) -> None:
    """Bytes that are no document at all: 10, 11 or 12, never anything else."""
    lowered = body.lower()
    if b"json" in lowered or b"xml" in lowered:
        return  # could be a form naming its document: covered above
    headers = {"content-type": content_type} if content_type else {}
    _check_api2(post("/api2.php", content=body, headers=headers), _expects_xml(body))


@FUZZ
@given(
    fields=st.lists(st.tuples(st.sampled_from(KEYS), st.binary(max_size=20)), max_size=4),
    tail=st.binary(max_size=60),
    boundary=st.sampled_from(["zz", "", '"zz"', "z" * 80]),
)
def test_api1_broken_multipart(
    fuzzed: Account,
    post: Callable[..., httpx.Response],
    fields: list[tuple[str, bytes]],
    tail: bytes,
    boundary: str,
) -> None:
    """Multipart bodies cut short, with stray bytes, or a boundary that is not the header's."""
    parts = b"".join(
        b'--zz\r\nContent-Disposition: form-data; name="'
        + key.encode()
        + b'"\r\n\r\n'
        + value
        + b"\r\n"
        for key, value in [("apikey", fuzzed.key.encode()), *fields]
    )
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    answer = post("/api.php", content=parts + tail, headers=headers)
    # Whatever came of the parts, the answer is a well-formed one in a format: which one
    # depends on how much of the body could be read, so it is taken from the header.
    fmt = {"application/json": "json", "text/xml": "xml"}.get(
        answer.headers["content-type"].partition(";")[0], "text"
    )
    _check_api1(answer, fmt)
