"""Inbound SMS (contract §10), injected by the operator with `pilotgate inbound add`."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from .support import TIME_RE, XML_DECL, Account, Api, Server

SERVICE_NUMBER = "79021121075"
TRICKY = 'Hello, "world"\nsecond line; 50% off'
MARKUP = "<b>&\"</b> it's"


@dataclass(frozen=True)
class Mailbox:
    client: Api
    ids: list[int]


@pytest.fixture(scope="module")
def mailbox(gate: Server, new_account: Callable[..., Account], api: Api) -> Mailbox:
    account = new_account(balance="0")
    ids = [
        gate.inbound(account, phone="79087964781", num=SERVICE_NUMBER, text="5671 test"),
        gate.inbound(account, phone="+7 (916) 123-45-67", num=SERVICE_NUMBER, text=TRICKY),
        gate.inbound(account, phone="79161234567", num=SERVICE_NUMBER, text=MARKUP),
    ]
    return Mailbox(api.as_key(account.key), ids)


def test_inbound_json(mailbox: Mailbox) -> None:
    items = sorted(mailbox.client.json(inbound="all")["inbound"], key=lambda i: int(i["id"]))
    assert [int(item["id"]) for item in items] == mailbox.ids
    assert [(i["phone"], i["num"], i["text"]) for i in items] == [
        ("79087964781", SERVICE_NUMBER, "5671 test"),
        ("79161234567", SERVICE_NUMBER, TRICKY),
        ("79161234567", SERVICE_NUMBER, MARKUP),
    ]
    for item in items:
        assert {"id", "phone", "num", "text", "created"} <= set(item)
        assert all(isinstance(value, str) for value in item.values())
        assert TIME_RE.match(item["created"])


def test_inbound_text_quotes_commas_quotes_and_newlines(mailbox: Mailbox) -> None:
    by_id = {i["id"]: i for i in mailbox.client.json(inbound="all")["inbound"]}
    body = mailbox.client.text(inbound="all")
    first = by_id[str(mailbox.ids[0])]
    assert f'{first["id"]},79087964781,{SERVICE_NUMBER},"5671 test","{first["created"]}"' in (
        body.split("\n")
    )
    assert '"Hello, ""world""\nsecond line; 50% off"' in body
    rows = sorted(csv.reader(io.StringIO(body)), key=lambda row: int(row[0]))
    assert rows == [
        [i["id"], i["phone"], i["num"], i["text"], i["created"]]
        for i in sorted(by_id.values(), key=lambda i: int(i["id"]))
    ]
    assert not body.endswith("\n")


def test_inbound_xml_is_escaped(mailbox: Mailbox) -> None:
    body = mailbox.client.xml(inbound="all")
    assert body.startswith(XML_DECL)
    assert "&lt;b&gt;&amp;" in body
    assert "<b>" not in body
    root = ET.fromstring(body.removeprefix(XML_DECL))
    assert root.tag == "inbound"
    items = sorted(root, key=lambda sms: int(sms.get("id", "0")))
    assert [sms.tag for sms in items] == ["sms"] * 3
    assert [sms.text for sms in items] == ["5671 test", TRICKY, MARKUP]
    assert [sms.get("phone") for sms in items] == ["79087964781", "79161234567", "79161234567"]
    assert all(sms.get("num") == SERVICE_NUMBER for sms in items)
    assert all(TIME_RE.match(sms.get("created", "")) for sms in items)


def test_inbound_since_a_time(mailbox: Mailbox) -> None:
    client = mailbox.client
    everything = client.json(inbound="all")
    assert client.json(inbound="2000-01-01 00:00:00") == everything
    assert client.json(inbound="946684800") == everything  # 2000-01-01 as a unix time
    later = datetime.now(UTC) + timedelta(hours=1)
    assert client.json(inbound=later.strftime("%Y-%m-%d %H:%M:%S")) == {"inbound": []}
    assert client.json(inbound=str(int(later.timestamp()))) == {"inbound": []}
    assert client.text(inbound=later.strftime("%Y-%m-%d %H:%M:%S")) == ""
    newest = max(item["created"] for item in everything["inbound"])
    newest_time = datetime.strptime(newest + "+0000", "%Y-%m-%d %H:%M:%S%z")
    cutoff = (newest_time - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    recent = client.json(inbound=cutoff)["inbound"]
    assert newest in {item["created"] for item in recent}
    assert all(item["created"] >= cutoff for item in recent)


def test_inbound_new_marks_what_it_fetched(
    gate: Server, new_account: Callable[..., Account], api: Api
) -> None:
    account = new_account(balance="0")
    client = api.as_key(account.key)
    assert client.json(inbound="new") == {"inbound": []}
    first = gate.inbound(account, phone="79087964781", num=SERVICE_NUMBER, text="one")
    second = gate.inbound(account, phone="79087964781", num=SERVICE_NUMBER, text="two")
    assert sorted(int(i["id"]) for i in client.json(inbound="new")["inbound"]) == [first, second]
    assert client.json(inbound="new") == {"inbound": []}
    third = gate.inbound(account, phone="79087964781", num=SERVICE_NUMBER, text="three")
    (item,) = client.json(inbound="new")["inbound"]
    assert (int(item["id"]), item["text"]) == (third, "three")
    assert client.text(inbound="new") == ""
    assert len(client.json(inbound="all")["inbound"]) == 3
