"""The pure rules of API-2 documents: where the document is, how JSON and XML become plain
values, and which commands and per-item errors a document yields (contract §12)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pilotgate.api import api2_answers, documents
from pilotgate.domain import packets
from pilotgate.errors import ApiError


def read(body: bytes, query: bytes = b"", content_type: str = "") -> dict[str, Any]:
    return documents.parse(documents.locate(query, body, content_type))


def code_of(call: Any, *args: Any, **kwargs: Any) -> int:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_xml_becomes_the_json_shape() -> None:
    doc = read(
        b"<r><apikey>K</apikey><from>SHOP</from>"
        b'<send><sms id="1" to="7908">Hi &amp; bye</sms><sms><to>7916</to><text>x</text></sms>'
        b"</send><check><sms server_id='5'/></check><balance/></r>"
    )
    assert doc == {
        "apikey": "K",
        "from": "SHOP",
        "send": [{"id": "1", "to": "7908", "text": "Hi & bye"}, {"to": "7916", "text": "x"}],
        "check": [{"server_id": "5"}],
        "balance": "",
    }


@pytest.mark.parametrize(
    ("body", "query", "code"),
    [
        (b"", b"", 10),
        (b"  ", b"", 10),
        (b"plain words", b"", 11),
        (b"json=", b"", 11),
        (b'{"a": "\xff"}', b"", 11),
        (b'{"a":', b"", 13),
        (b"", b"json=%22just%20a%20string%22", 13),
        (b"[]", b"", 13),
        (b'{"a": Infinity}', b"", 13),
        (b"<r><a></r>", b"", 12),
        (b"<r>text only</r>", b"", 12),
        (b'<!DOCTYPE r [<!ENTITY e "x">]><r><a>&e;</a></r>', b"", 12),
        (b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', b"", 12),
        (b"<r>" * 9 + b"</r>" * 9, b"", 12),
        (b"<r><a>&#xD800;</a></r>", b"", 12),
        (b"<r><a>&#0;</a></r>", b"", 12),
        (b'{"a": "\\ud800"}', b"", 13),
        (b'{"a": ["\\udc00x"]}', b"", 13),
        (b'{"a":' + b"[" * 8 + b"]" * 8 + b"}", b"", 13),
    ],
)
def test_unreadable_documents(body: bytes, query: bytes, code: int) -> None:
    assert code_of(read, body, query) == code


def test_a_document_in_a_field_of_the_query_or_the_form() -> None:
    assert read(b"", b"json=%7B%22a%22%3A1%7D&r=5") == {"a": 1}
    assert read(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}  # a pair is one character
    assert read(b"json=%7B%22a%22%3A%22%D1%8F%22%7D") == {"a": "я"}
    assert read(b"xml=%3Cr%3E%3Ca%3E1%3C%2Fa%3E%3C%2Fr%3E") == {"a": "1"}
    assert read(b"apikey=K", b"json=%7B%22a%22%3A2%7D") == {"a": 2}
    assert documents.locate(b"debug=x&r=1", b"{}", "").query == {"debug": "x", "r": "1"}


def send(*items: Any, **top: Any) -> packets.Commands:
    return packets.parse({"send": list(items), **top}, max_items=10)


def test_items_take_strings_and_integers_and_the_top_level_defaults() -> None:
    (item,) = (
        send(
            {"id": 9, "to": 79087964781, "text": 42, "ttl": 5, "send_datetime": 1_900_000_000},
            **{"from": "SHOP", "callback": "https://e.com/", "test": "1"},
        ).send
        or []
    )
    assert item == packets.Item(
        id=9,
        to="79087964781",
        sender="SHOP",
        text="42",
        send_datetime="1900000000",
        ttl="5",
        callback="https://e.com/",
    )
    own = send({"to": "1", "text": "x", "from": "MINE", "callback": ""}, **{"from": "SHOP"}).send
    assert own and own[0].sender == "MINE" and own[0].callback is None


@pytest.mark.parametrize(("field", "code"), sorted(packets.FIELD_ERRORS.items()))
@pytest.mark.parametrize("value", [[1], {"a": 1}, 1.5, True])
def test_every_field_of_the_wrong_type_has_its_error(field: str, code: int, value: Any) -> None:
    (item,) = send({"to": "79087964781", "text": "x", field: value}).send or []
    assert item.error == code


def test_ids_any_scalar_echoed_duplicates_and_non_objects_refused() -> None:
    items = send(
        {"id": 1}, {"id": 1}, {"id": "1"}, {"id": True}, {"id": [1]}, "not an object", {}, {}
    ).send
    assert [(i.id, i.error) for i in items or []] == [
        (1, 0),
        (1, 230),
        ("1", 0),
        (True, 0),
        (None, 230),
        (None, 240),
        (None, 0),
        (None, 0),
    ]


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({}, 14),
        ({"apikey": "K"}, 14),
        ({"info": False, "balance": None}, 14),
        ({"send": "x"}, 240),
        ({"send": []}, 240),
        ({"send": [{}] * 11}, 240),
        ({"send": [{}], "test": [1]}, 240),
        ({"check": []}, 300),
        ({"check": True}, 304),
        ({"check": "true", "server_packet_id": "-1"}, 304),
        ({"check": list(range(1001))}, 303),
        ({"inbound": "yesterday"}, 500),
        ({"inbound": True, "since": ["x"]}, 500),
        ({"balance": ["sms"]}, 14),
        ({"info": "maybe"}, 14),
    ],
)
def test_document_errors(doc: dict[str, Any], code: int) -> None:
    assert code_of(packets.parse, doc, max_items=10) == code


def test_other_commands() -> None:
    parsed = packets.parse(
        {
            "check": [{"server_id": "5"}, 6, {"server_id": "x"}, {}],
            "balance": "SMS",
            "info": "",
            "inbound": "new",
        },
        max_items=10,
    )
    assert parsed.check == [("5", 5), ("6", 6), ("x", None), ("", None)]
    assert (parsed.balance, parsed.info, parsed.inbound) == ("sms", True, "new")
    assert packets.parse({"check": {"server_id": 7}}, max_items=1).check == [("7", 7)]
    packet = packets.parse({"check": True, "server_packet_id": "10000"}, max_items=1)
    assert (packet.check, packet.check_packet) == (None, 10000)
    assert packets.parse({"inbound": 1, "since": 1700000000}, max_items=1).inbound == "1700000000"
    assert packets.parse({"balance": True}, max_items=1).balance == "rur"


@pytest.mark.parametrize(
    ("doc", "code"),
    [({"apikey": 5}, 101), ({"login": 5, "password": "p"}, 401), ({"password": ["p"]}, 401)],
)
def test_credentials_of_the_wrong_type(doc: dict[str, Any], code: int) -> None:
    assert code_of(packets.credentials, doc) == code


@pytest.mark.parametrize(
    "ident",
    [0, 7, -12, 2**63 - 1, 1.5, -0.25, 1e300, "abc", "", "тест", 'q"\\', "\u2028", True, False],
)
def test_a_stored_id_is_the_json_text_of_the_id(ident: Any) -> None:
    """stored_id skips json.dumps's per-call setup: the text must still be what dumps
    writes, byte for byte (check answers it back parsed from that text)."""
    assert api2_answers.stored_id(ident) == json.dumps(ident, ensure_ascii=False)
    assert api2_answers.stored_id(None) == ""
