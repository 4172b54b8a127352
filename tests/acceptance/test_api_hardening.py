"""Issue 12, item 6 and "Compatibility with published clients": charsets that are no charset,
the answer's format when the body does not decode, API-2 ids JSON cannot write back, XML
declaring an unknown encoding, and the `id`/`modified` of API-2 answers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from .api2_client import XML_TYPE, Api2, error_xml
from .support import (
    DEMO_KEY,
    MTS,
    TELE2,
    TIME_RE,
    Account,
    Api,
    Server,
    assert_error,
    error_json,
    error_text,
)


@pytest.mark.parametrize(
    "charset",
    [
        "idna",  # a text codec, but it cannot encode an answer: was HTTP 500
        "undefined",  # fails on everything: was HTTP 500
        "utf%0A8",  # a newline in the Content-Type header: the connection was dropped
        "utf%208",  # `encoding="utf 8"`: an XML declaration that is not well-formed
        "utf-7",
        "unicode_escape",
        "punycode",
        "rot13",
        "utf%2C8",
        "windows-1251%22",
    ],
)
def test_a_charset_that_is_no_charset_is_error_11_in_the_requested_format(
    api: Api, charset: str
) -> None:
    """Every format and language, answered in UTF-8 (`assert_error` checks the header)."""
    assert_error(api, f"apikey={DEMO_KEY}&balance=rur&charset={charset}", 11)
    assert_error(api, f"apikey={DEMO_KEY}&send=Hi&to={TELE2}&charset={charset}", 11)


@pytest.mark.parametrize("charset", ["utf8", "cp1251", "iso-8859-5", "cp866", "KOI8-U", "latin-1"])
def test_real_charsets_by_any_of_their_names_still_work(api: Api, charset: str) -> None:
    answer = api.call(f"apikey={DEMO_KEY}&balance=rur&format=xml&charset={charset}")
    label = charset.lower()
    assert answer.headers["content-type"] == f"text/xml; charset={label}"
    body = answer.content.decode(label)
    assert body.startswith(f'<?xml version="1.0" encoding="{label}"?>\n<balance>')
    ET.fromstring(answer.content)  # the declaration is one an XML parser accepts


BODIES = {  # the body, and the charset of the answer: the one named when it is a charset
    "bytes that are not UTF-8": ("send=%FF%FE&to=" + TELE2, "utf-8"),
    "bytes that are not windows-1251": (
        "send=%98&to=" + TELE2 + "&charset=windows-1251",
        "windows-1251",
    ),
    "a charset that is no charset": ("balance=rur&charset=idna", "utf-8"),
    "an unknown charset": ("balance=rur&charset=x-unknown", "utf-8"),
}


@pytest.mark.parametrize("case", BODIES)
def test_a_body_that_does_not_decode_is_answered_in_the_format_it_asked_for(
    api: Api, case: str
) -> None:
    """Was: the format of a POST body was lost with its decoding error (answered in text)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    params, charset = BODIES[case]
    for fmt in ("json", "xml", "v", "text"):
        body = f"apikey={DEMO_KEY}&{params}&format={fmt}&lang=en"
        answer = api.call(method="POST", content=body.encode(), headers=form)
        _assert_error_11(answer, fmt, charset)
    # The body's format wins over the query's, as every other parameter does.
    body = f"apikey={DEMO_KEY}&{params}&format=xml"
    answer = api.call("format=json", method="POST", content=body.encode(), headers=form)
    _assert_error_11(answer, "xml", charset)


def test_a_multipart_body_that_does_not_decode_keeps_its_format(
    gate: Server, http: httpx.Client
) -> None:
    fields: dict[str, bytes | str] = {
        "apikey": DEMO_KEY,
        "send": b"\xff\xfe",
        "to": TELE2,
        "format": "json",
    }
    files = {name: (None, value) for name, value in fields.items()}
    answer = http.post(gate.url + "/api.php", files=files)
    assert answer.status_code == 200
    _assert_error_11(answer, "json", "utf-8")


def _assert_error_11(answer: httpx.Response, fmt: str, charset: str) -> None:
    kind = {"json": "application/json", "xml": "text/xml"}.get(fmt, "text/plain")
    assert answer.headers["content-type"] == f"{kind}; charset={charset}", answer.text
    text = answer.content.decode(charset)
    if fmt == "json":
        assert json.loads(text) == error_json(11)
    elif fmt == "xml":
        assert text == error_xml(11).replace('"utf-8"', f'"{charset}"')
    elif fmt == "v":
        assert text == "Unknown INPUT format"
    else:
        assert text == error_text(11)


@pytest.fixture
def fresh(gate: Server, http: httpx.Client, new_account: Callable[..., Account]) -> Api2:
    return Api2(http, gate.url, new_account(balance="100.00").key)


@pytest.mark.parametrize(
    "raw_id",
    ["1e400", "-1e400", "1E+999", str(2**64), str(-(2**63) - 1), json.dumps("x" * 257)],
)
def test_an_id_that_cannot_be_echoed_is_refused_not_charged(fresh: Api2, raw_id: str) -> None:
    """Was: `"id": 1e400` was answered `"id":Infinity` (not JSON), stored and charged."""
    doc = (
        f'{{"apikey":"{fresh.apikey}","send":[{{"id":{raw_id},"to":"{TELE2}","text":"inf"}},'
        f'{{"id":2,"to":"{MTS}","text":"fine"}}],"balance":"rur"}}'
    )
    answer = fresh.post(doc)
    parsed = json.loads(answer.text, parse_constant=_not_json)  # strict JSON
    refused, sent = parsed["send"]
    assert (refused["id"], refused["server_id"], refused["status"], refused["error"]) == (
        0,
        "0",
        -2,
        230,
    )
    assert (refused["to"], refused["text"], refused["price"]) == (TELE2, "inf", 0)
    assert (sent["id"], sent["status"], sent["error"]) == (2, 0, 0)
    assert Decimal(str(parsed["cost"])) == Decimal(str(sent["price"]))
    assert Decimal(str(parsed["balance"])) == Decimal("100.00") - Decimal(str(sent["price"]))
    assert [
        r["server_id"]
        for r in fresh({"check": True, "server_packet_id": sent["server_id"]})["check"]
    ] == [sent["server_id"]]


def test_the_largest_ids_that_can_be_echoed_are_kept(fresh: Api2) -> None:
    ids = [2**63 - 1, -(2**63 - 1), 1e308, "y" * 256, True, 0.5]
    answer = fresh.send(*({"id": i, "to": TELE2, "text": "edge"} for i in ids))
    assert [(i["id"], i["error"]) for i in answer["send"]] == [(i, 0) for i in ids]


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_xml_declaring_an_unknown_encoding_is_error_12_in_xml(fresh: Api2) -> None:
    """Was: 110 in JSON."""
    for encoding in ("x-unknown", "idna", "undefined", "shift_jis", "base64"):
        doc = (
            f'<?xml version="1.0" encoding="{encoding}"?>'
            f"<request><apikey>{fresh.apikey}</apikey><balance>1</balance></request>"
        )
        answer = fresh.post(doc)
        assert answer.headers["content-type"] == XML_TYPE, (encoding, answer.text)
        assert answer.text == error_xml(12), encoding


def test_a_send_item_without_id_is_answered_with_id_0(fresh: Api2) -> None:
    """The API-2 document's own example: a client matching answers by id found no match for
    `null` and lost its first message."""
    answer = fresh.send({"to": TELE2, "text": "no id"}, {"to": "not-a-phone", "text": "bad"})
    assert [(i["id"], i["error"]) for i in answer["send"]] == [(0, 0), (0, 111)]
    xml = fresh.post(
        f"<request><apikey>{fresh.apikey}</apikey><send><sms><to>{TELE2}</to>"
        "<text>no id</text></sms></send></request>"
    )
    assert ET.fromstring(xml.text).findtext("send/sms/id") == "0"


def test_check_carries_the_clients_id_and_when_the_status_last_changed(
    fresh: Api2, gate: Server, http: httpx.Client
) -> None:
    ids = [17, "order-5", 2.5, None]
    items = [{"to": TELE2, "text": f"m{n}"} for n in range(len(ids))]
    sent = fresh.send(
        *({**item, "id": i} if i is not None else item for item, i in zip(items, ids, strict=True))
    )
    server_ids = [row["server_id"] for row in sent["send"]]
    api1 = Api(http, gate.url, fresh.apikey)
    by_api1 = api1.json(send="api-1", to=MTS)["send"][0]["server_id"]
    for server_id in server_ids:
        api1.wait_status(server_id)
    rows = fresh({"check": [*server_ids, by_api1, "999999999"]})["check"]
    assert [r["id"] for r in rows] == [17, "order-5", 2.5, 0, 0, 0]
    for row in rows[:4]:
        assert row["status"] == 2 and TIME_RE.match(row["modified"]), row
        # `modified` is when the status last changed: the delivery, after the send.
        api1_item = api1.json(check=row["server_id"], fields="created,modified")["check"][0]
        assert row["modified"] == api1_item["modified"] >= api1_item["created"]
    assert rows[5]["modified"] == "" and rows[5]["error"] == 302
    packet = fresh({"check": True, "server_packet_id": sent["server_packet_id"]})["check"]
    assert sorted(map(str, (r["id"] for r in packet))) == sorted(["17", "order-5", "2.5", "0"])
    xml = fresh.post(
        f"<request><apikey>{fresh.apikey}</apikey><check>{server_ids[1]}</check></request>"
    )
    sms = ET.fromstring(xml.text).find("check/sms")
    assert sms is not None
    assert sms.findtext("id") == "order-5" and TIME_RE.match(sms.findtext("modified") or "")
