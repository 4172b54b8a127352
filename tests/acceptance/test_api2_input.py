"""Where API-2 finds its document and what it refuses (contract §12): JSON whatever the
Content-Type, `json=` in the query or a form, XML in the same shapes; no document, garbage,
broken or deeply nested JSON and XML, DTDs and entities, oversized bodies and packets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api2_client import XML_TYPE, Api2, error, error_xml
from .support import DEMO_EMAIL, DEMO_KEY, DEMO_PASSWORD, TELE2, XML_DECL, Server, running


@pytest.fixture
def demo2(gate: Server, http: httpx.Client) -> Api2:
    return Api2(http, gate.url, DEMO_KEY)


BALANCE = json.dumps({"apikey": DEMO_KEY, "balance": True})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain; charset=utf-8"},
        {"Content-Type": "this is not; a content type;;"},
    ],
)
def test_a_json_body_whatever_the_content_type(demo2: Api2, headers: dict[str, str]) -> None:
    answer = demo2.post(BALANCE, headers=headers).json()
    assert isinstance(answer["balance"], int | float)


def test_json_in_the_query_a_form_or_multipart_with_debug_and_r(demo2: Api2) -> None:
    extra = {"debug": "me@example.com", "r": "1"}
    for answer in (
        demo2.post(params={"json": BALANCE, **extra}, method="GET"),
        demo2.post(params={"json": BALANCE, **extra}),
        demo2.post(data={"json": BALANCE}, params=extra),
        demo2.post(files={"json": (None, BALANCE)}, params=extra),
        demo2.post(("\ufeff  \n" + BALANCE).encode()),  # a BOM and blanks before it
    ):
        assert isinstance(answer.json()["balance"], int | float), answer.text


def xml_request(*inner: str) -> str:
    return f"{XML_DECL}<request><apikey>{DEMO_KEY}</apikey>{''.join(inner)}</request>"


def test_an_xml_document_in_the_same_shapes_is_answered_in_xml(demo2: Api2) -> None:
    body = xml_request(
        "<send>",
        f'<sms id="1" to="{TELE2}">Fish &amp; chips</sms>',
        f"<sms><id>two</id><to>{TELE2}</to><text>second</text></sms>",
        '<sms id="3" to="abc">bad phone</sms>',
        "</send>",
        "<balance/>",
    )
    for answer in (demo2.post(body), demo2.post(data={"xml": body})):
        assert answer.headers["content-type"] == XML_TYPE
        text = answer.text
        assert text.startswith(XML_DECL + "<response><send><sms><id>1</id><server_id>")
        assert "<text>Fish &amp; chips</text>" in text and "<id>two</id>" in text
        assert "<status>-2</status><error>111</error>" in text
        assert "<balance>" in text and "<server_packet_id>" in text


def test_xml_check_info_and_login_password(demo2: Api2) -> None:
    sent = demo2.send({"to": TELE2, "text": "to be checked"})["send"][0]["server_id"]
    body = (
        f"<request><login>{DEMO_EMAIL}</login><password>{DEMO_PASSWORD}</password>"
        f'<check><sms server_id="{sent}"/></check><info/></request>'
    )
    text = demo2.post(body).text
    # `id`: the item gave none at send time.
    assert text.startswith(
        f"{XML_DECL}<response><check><sms><id>0</id><server_id>{sent}</server_id>"
    )
    assert f"<to>{TELE2}</to>" in text and f"<email>{DEMO_EMAIL}</email>" in text
    assert demo2.post("<request><balance/></request>").text == error_xml(100)


def test_no_document_garbage_and_broken_documents(demo2: Api2) -> None:
    assert demo2.post().json() == error(10)
    assert demo2.post(method="GET").json() == error(10)
    assert demo2.post(b"hello world").json() == error(11)
    assert demo2.post(data={"apikey": DEMO_KEY}).json() == error(11)
    assert demo2.post('{"apikey": "\xff"}'.encode("latin-1")).json() == error(11)
    assert demo2.post(b'{"apikey": ').json() == error(13)
    assert demo2.post(b"[1, 2]").json() == error(13)
    assert demo2.post(b'{"balance": NaN}').json() == error(13)
    lone = b'{"apikey": "%s", "send": [{"to": "79087964781", "text": "\\ud800"}]}'
    assert demo2.post(lone % DEMO_KEY.encode()).json() == error(13)
    assert demo2.post(b'{"balance": ' + b"9" * 5000 + b"}").json() == error(13)
    broken = demo2.post(b"<request><balance></request>")
    assert broken.headers["content-type"] == XML_TYPE
    assert broken.text == error_xml(12)


def test_deep_nesting_is_refused(demo2: Api2) -> None:
    deep_json = f'{{"apikey": "{DEMO_KEY}", "send": {"[" * 100_000}1{"]" * 100_000}}}'
    assert demo2.post(deep_json).json() == error(13)
    nine = f'{{"apikey": "{DEMO_KEY}", "balance": {"[" * 8}1{"]" * 8}}}'
    assert demo2.post(nine).json() == error(13)
    deep_xml = xml_request("<a>" * 50, "</a>" * 50)
    assert demo2.post(deep_xml).text == error_xml(12)


def test_xml_entities_dtds_and_external_references_are_refused(demo2: Api2, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + f"]><request><apikey>{DEMO_KEY}</apikey><balance>&j;</balance></request>"
    )
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        f"<request><apikey>{DEMO_KEY}</apikey><send><sms to='{TELE2}'>&x;</sms></send></request>"
    )
    remote = (
        '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">'
        f"<request><apikey>{DEMO_KEY}</apikey><balance/></request>"
    )
    undeclared = xml_request("<send><sms to='1'>&undeclared;</sms></send>")
    for body in (laughs, xxe, remote, undeclared):
        started = time.monotonic()
        answer = demo2.post(body)
        assert answer.text == error_xml(12)
        assert "TOP-SECRET" not in answer.text
        assert time.monotonic() - started < 2.0  # refused, not expanded


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, http: httpx.Client) -> Iterator[Api2]:
    """A gateway configured for small packets: 3 messages, 2,000-byte bodies."""
    server = Server(
        tmp_path_factory.mktemp("small"),
        "demo",
        settings={"PILOTGATE_MAX_RECIPIENTS": "3", "PILOTGATE_MAX_BODY_BYTES": "2000"},
    )
    with running(server):
        yield Api2(http, server.url, DEMO_KEY)


def items(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "to": TELE2, "text": f"text {i}"} for i in range(n)]


def test_configured_item_and_body_limits(small: Api2) -> None:
    before = small({"balance": True})["balance"]
    assert len(small.send(*items(3))["send"]) == 3
    assert small.send(*items(4)) == error(240)
    after = small({"balance": True})["balance"]
    assert small.send(*items(4)) == error(240) and small({"balance": True})["balance"] == after
    assert after < before
    huge = json.dumps(small.document({"send": [{"to": TELE2, "text": "x" * 3000}]}))
    response = small.client.post(small.endpoint, content=huge)
    assert response.status_code == 413  # not an API call at all (contract §1)
    assert small({"balance": True})["balance"] == after
