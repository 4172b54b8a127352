"""How requests are read (contract §2): charsets, empty and unknown parameters, the sender
alias, GET and POST (form and multipart), query and body merged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from .support import (
    DEMO_KEY,
    MTS,
    TELE2,
    TELE2_PRICE,
    UNDELIVERABLE,
    Api,
    assert_error,
    error_json,
)

CYRILLIC = "Привет, мир! Ёлка и ёжик: 100%"


def _query(values: dict[str, str], charset: str) -> str:
    return "&".join(f"{k}={quote(v.encode(charset), safe='')}" for k, v in values.items())


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r", "utf-16le", "utf-8"])
def test_cyrillic_round_trips_in_the_named_charset(demo: Api, charset: str) -> None:
    """A client that encodes its parameter values in `charset` gets its text back in it."""
    values = {
        "apikey": DEMO_KEY,
        "send": CYRILLIC,
        "to": TELE2,
        "fields": "server_id,message",
        "format": "json",
    }
    answer = demo.call(_query(values, charset) + f"&charset={charset}")
    assert answer.headers["content-type"] == f"application/json; charset={charset}"
    (item,) = json.loads(answer.content.decode(charset))["send"]
    assert item["message"] == CYRILLIC

    values = {"apikey": DEMO_KEY, "check": item["server_id"], "fields": "message", "format": "xml"}
    answer = demo.call(_query(values, charset) + f"&charset={charset}")
    assert answer.headers["content-type"] == f"text/xml; charset={charset}"
    body = answer.content.decode(charset)
    declaration = f'<?xml version="1.0" encoding="{charset}"?>\n'
    assert body.startswith(declaration)
    assert ET.fromstring(body.removeprefix(declaration))[0].get("message") == CYRILLIC

    values = {"apikey": DEMO_KEY, "send": CYRILLIC, "to": "abc", "lang": "ru"}
    answer = demo.call(_query(values, charset) + f"&charset={charset}")
    assert answer.headers["content-type"] == f"text/plain; charset={charset}"
    assert answer.content.decode(charset) == "ERROR=111: Неправильный номер телефона"


def test_utf8_is_the_default(demo: Api) -> None:
    (item,) = demo.json(send=CYRILLIC, to=TELE2, fields="message,parts")["send"]
    assert item == {"message": CYRILLIC, "parts": "1"}
    (item,) = demo.json(send="Hello+world", to=TELE2, fields="message")["send"]
    assert item == {"message": "Hello+world"}
    raw = demo.call(f"apikey={DEMO_KEY}&send=Hello+world&to={TELE2}&fields=message&format=json")
    assert raw.json()["send"][0]["message"] == "Hello world"


def test_empty_parameters_behave_as_absent(demo: Api) -> None:
    answer = demo.json(
        send="Empty ones",
        to=TELE2,
        fields="sender,status,send_datetime",
        **{
            "from": "",
            "send_datetime": "",
            "ttl": "",
            "callback": "",
            "callback_method": "",
            "sender": "",
        },
    )
    assert answer["send"] == [{"sender": "INFORM", "status": "0", "send_datetime": ""}]
    raw = demo.call(
        f"apikey={DEMO_KEY}&send=Raw&to={TELE2}&from=&send_datetime=&ttl="
        "&callback=&format=json&fields=sender,status"
    )
    assert raw.json()["send"] == [{"sender": "INFORM", "status": "0"}]


def test_unknown_parameters_are_ignored(demo: Api) -> None:
    answer = demo.json(
        send="Unknown ones",
        to=TELE2,
        source="my-app",
        source_id="42",
        colour="blue",
        test="0",
        cost="0",
        lang="ru",
        fields="phone,status",
    )
    assert answer["send"] == [{"phone": TELE2, "status": "0"}]
    assert demo.text(balance="rur", whatever="1") == demo.text(balance="rur")


def test_sender_alias(demo: Api) -> None:
    (item,) = demo.json(send="Alias", to=TELE2, sender="INFORM", fields="sender")["send"]
    assert item == {"sender": "INFORM"}
    # from wins when both are present
    (item,) = demo.json(
        send="Both", to=TELE2, sender="NOTMINE", fields="sender", **{"from": "INFORM"}
    )["send"]
    assert item == {"sender": "INFORM"}
    # the alias alone is really read
    assert demo.json(send="Alias", to=TELE2, sender="NOTMINE") == error_json(204)


def test_post_form_body_is_merged_with_the_query_and_wins(demo: Api) -> None:
    answer = demo.call(
        {"to": UNDELIVERABLE, "format": "json"},
        method="POST",
        data={"send": "Merged", "to": TELE2, "fields": "phone,message"},
    )
    assert answer.json()["send"] == [{"phone": TELE2, "message": "Merged"}]


def test_post_with_everything_in_the_body(demo: Api) -> None:
    answer = demo.call(
        "",
        method="POST",
        data={
            "apikey": DEMO_KEY,
            "send": CYRILLIC,
            "to": MTS,
            "format": "json",
            "fields": "phone,message,price",
        },
    )
    assert answer.json()["send"] == [{"phone": MTS, "message": CYRILLIC, "price": "4.35"}]


def test_post_windows_1251_form_body(demo: Api) -> None:
    body = _query(
        {
            "apikey": DEMO_KEY,
            "send": CYRILLIC,
            "to": TELE2,
            "fields": "message",
            "format": "json",
            "charset": "windows-1251",
        },
        "windows-1251",
    )
    answer = demo.call(
        "",
        method="POST",
        content=body.encode("ascii"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert json.loads(answer.content.decode("windows-1251"))["send"][0]["message"] == CYRILLIC


def test_multipart_form_data(demo: Api) -> None:
    boundary = "----pilotgate-acceptance"
    fields = {
        "apikey": DEMO_KEY,
        "send": CYRILLIC,
        "to": TELE2,
        "format": "json",
        "fields": "phone,message",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8")
    answer = demo.call(
        "",
        method="POST",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.json()["send"] == [{"phone": TELE2, "message": CYRILLIC}]


def test_get_and_post_answer_alike(demo: Api) -> None:
    params = {"send": "Same", "to": f"{TELE2},{MTS}", "cost": "1", "format": "json"}
    by_get = demo.call(params)
    by_post = demo.call("", method="POST", data={"apikey": DEMO_KEY, **params})
    assert by_get.json() == by_post.json() == {"cost": "8.30"}
    assert (
        demo.call({"balance": "rur"}).text
        == demo.call("", method="POST", data={"apikey": DEMO_KEY, "balance": "rur"}).text
    )


def test_test_flag_processes_and_charges_like_a_real_send(demo: Api) -> None:
    before = demo.balance()
    (item,) = demo.json(send="Test mode", to=TELE2, test="1")["send"]
    assert item["price"] == "3.95"
    assert demo.balance() == before - TELE2_PRICE
    assert demo.wait_status(item["server_id"])["status"] == "2"


def test_utf16_client_encoding_every_value_and_the_charset_name(demo: Api) -> None:
    values = {
        "apikey": DEMO_KEY,
        "send": CYRILLIC,
        "to": TELE2,
        "fields": "message",
        "format": "json",
        "charset": "utf-16le",
    }
    answer = demo.call(_query(values, "utf-16le"))
    assert answer.headers["content-type"] == "application/json; charset=utf-16le"
    assert json.loads(answer.content.decode("utf-16le"))["send"] == [{"message": CYRILLIC}]


def test_the_first_present_command_decides(demo: Api) -> None:
    """send → check → balance → inbound → add_sender → list=senders → user info (§3)."""
    balance = demo.text(balance="rur")
    sent = demo.json(send="First", to=TELE2, check="all", balance="rur", inbound="all")
    assert "send" in sent
    newest = demo.json(check="all", limit="1")
    assert demo.json(check="all", limit="1", balance="rur", inbound="all") == newest
    assert demo.text(balance="rur", inbound="all", add_sender="X") == demo.text(balance="rur")
    assert demo.text(balance="rur") != balance  # the send above was charged
    assert demo.json(inbound="all", add_sender="", **{"list": "senders"}) == demo.json(
        inbound="all"
    )
    assert_error(demo, {"add_sender": "", "list": "senders"}, 640)
    assert demo.json(**{"list": "senders"}) == {"senders": []}
    assert demo.json(**{"list": "other"}) == demo.json()
