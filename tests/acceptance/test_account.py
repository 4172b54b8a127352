"""balance, user info, sender names, and the operator's account commands (contract §9, §11)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from .support import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    TELE2,
    TIME_RE,
    XML_DECL,
    Account,
    Api,
    Server,
    assert_error,
    error_json,
    money,
)

INFO_KEYS = [
    "id",
    "tariff_id",
    "email",
    "name",
    "phone",
    "balance",
    "date",
    "default_sender",
    "any_sender",
    "senders",
    "allow_ip",
]
HOME_SMS_PRICE = Decimal("4.50")  # the default tariff's catch-all row for +7


def test_balance_in_every_format(demo: Api) -> None:
    value = demo.text(balance="rur")
    assert re.fullmatch(r"\d+\.\d{2}", value)
    assert demo.text(balance="") == value  # empty means rur
    assert demo.v(balance="rur") == value
    assert demo.json(balance="rur") == {"balance": value}
    assert demo.json(balance="") == {"balance": value}
    assert demo.xml(balance="rur") == f"{XML_DECL}<balance>{value}</balance>"


def test_balance_in_sms(demo: Api) -> None:
    rubles = demo.balance()
    expected = str((rubles / HOME_SMS_PRICE).to_integral_value(ROUND_FLOOR))
    assert demo.text(balance="sms") == expected
    assert demo.v(balance="sms") == expected
    assert demo.json(balance="sms") == {"balance": expected}
    assert demo.xml(balance="sms") == f"{XML_DECL}<balance>{expected}</balance>"


def test_user_info_in_every_format(demo: Api, api: Api) -> None:
    info = demo.json()
    assert list(info) == INFO_KEYS
    assert all(isinstance(value, str) for value in info.values())
    assert info["email"] == DEMO_EMAIL
    assert info["default_sender"] == "INFORM"
    assert info["any_sender"] == "0"
    assert info["allow_ip"] == ""
    assert info["id"].isdigit()
    assert info["tariff_id"].isdigit()
    assert TIME_RE.match(info["date"])
    assert money(info["balance"]) == demo.balance()

    lines = demo.text().split("\n")
    assert lines[0] == "SUCCESS=APIKEY INFO"
    assert lines[1:] == [f"{key}={value}" for key, value in info.items()]

    body = demo.xml()
    assert body.startswith(XML_DECL)
    root = ET.fromstring(body.removeprefix(XML_DECL))
    assert root.tag == "info"
    assert [(child.tag, child.text or "") for child in root] == list(info.items())

    # the same account behind login + password
    assert api.json(login=DEMO_EMAIL, password=DEMO_PASSWORD) == info


def test_new_account_from_the_cli(
    gate: Server, new_account: Callable[..., Account], api: Api
) -> None:
    account = new_account(
        balance="123.45", extra=["--name", "Shop & Co", "--phone", "+7 916 123-45-67"]
    )
    client = api.as_key(account.key)
    info = client.json()
    assert info["id"] == str(account.id)
    assert (info["email"], info["name"], info["phone"]) == (
        account.email,
        "Shop & Co",
        "79161234567",
    )
    assert info["balance"] == "123.45"
    assert info["default_sender"] == "INFORM"
    assert "<name>Shop &amp; Co</name>" in client.xml()
    # balance=sms uses the account's home country: +7916 MTS at 4.35
    assert client.text(balance="sms") == "28"
    out = gate.cli("account", "topup", str(account.id), "10.05")
    assert out.strip() == "balance 133.50"
    assert client.text(balance="rur") == "133.50"
    assert f"{account.id}\t{account.email}\t133.50\tactive" in gate.cli("account", "list")


def test_block_and_unblock(gate: Server, new_account: Callable[..., Account], api: Api) -> None:
    account = new_account(balance="10.00")
    client = api.as_key(account.key)
    for reason, code in (("balance", 105), ("spam", 106), ("untrusted", 107)):
        gate.cli("account", "block", str(account.id), "--reason", reason)
        assert client.json() == error_json(code)
        assert client.json(send="hi", to=TELE2) == error_json(code)
        assert api.json(login=account.email, password=account.password) == error_json(code)
    gate.cli("account", "unblock", str(account.id))
    answer = client.json(send="hi", to=TELE2)
    assert answer.get("cost") == "3.95", answer


def test_a_second_key_works(gate: Server, new_account: Callable[..., Account], api: Api) -> None:
    account = new_account(balance="1.00")
    match = re.fullmatch(
        r"apikey ([A-Za-z0-9]{64})", gate.cli("account", "newkey", str(account.id)).strip()
    )
    assert match
    assert api.as_key(match.group(1)).json()["id"] == str(account.id)
    assert api.as_key(account.key).json()["id"] == str(account.id)


def test_add_sender_errors(new_account: Callable[..., Account], api: Api) -> None:
    client = api.as_key(new_account(balance="0").key)
    ok = {"description": "Shop notifications, shop.example", "callback": "owner@shop.example"}
    assert_error(client, {"add_sender": "", **ok}, 640)
    assert_error(client, {"add_sender": "A", **ok}, 641)
    assert_error(client, {"add_sender": "Bad name!", **ok}, 641)
    assert_error(client, {"add_sender": "TOOLONGNAME12", **ok}, 641)
    assert_error(client, {"add_sender": "SHOP", "callback": ok["callback"]}, 643)
    assert_error(client, {"add_sender": "SHOP", "description": ok["description"]}, 644)
    assert_error(client, {"add_sender": "SHOP", "description": "x", "callback": "nowhere"}, 645)
    assert_error(
        client, {"add_sender": "SHOP", "description": "x", "callback": "ftp://shop.example/"}, 645
    )
    assert client.json(**{"list": "senders"}) == {"senders": []}
    client.json(add_sender="SHOP", **ok)
    assert_error(client, {"add_sender": "SHOP", **ok}, 642)
    assert_error(client, {"add_sender": "shop", **ok}, 642)


def test_add_sender_approval_and_list(
    gate: Server, new_account: Callable[..., Account], api: Api
) -> None:
    account = new_account(balance="100.00")
    client = api.as_key(account.key)
    assert_error(client, {"send": "hi", "to": TELE2, "from": "MYSHOP"}, 204)
    added = client.json(
        add_sender="MYSHOP",
        description="My shop, myshop.example",
        callback="https://myshop.example/sender.php",
    )
    (item,) = added["add_sender"]
    assert (item["name"], item["state"]) == ("MYSHOP", "pending")
    assert (
        client.text(
            add_sender="OTHER", description="Other project", callback="owner@myshop.example"
        ).split("\n")[0]
        == "SUCCESS=SENDER ADDED"
    )

    listed = client.json(**{"list": "senders"})["senders"]
    assert [(s["name"], s["state"]) for s in listed] == [
        ("MYSHOP", "pending"),
        ("OTHER", "pending"),
    ]
    assert client.text(**{"list": "senders"}).split("\n") == [
        f"MYSHOP,pending,{item['id']}",
        f"OTHER,pending,{listed[1]['id']}",
    ]
    root = ET.fromstring(client.xml(**{"list": "senders"}).removeprefix(XML_DECL))
    assert [child.get("name") for child in root] == ["MYSHOP", "OTHER"]
    # pending is not enough to send from it
    assert_error(client, {"send": "hi", "to": TELE2, "from": "MYSHOP"}, 204)

    assert "approved" in gate.cli("sender", "approve", item["id"])
    assert "rejected" in gate.cli("sender", "reject", listed[1]["id"])
    assert [(s["name"], s["state"]) for s in client.json(**{"list": "senders"})["senders"]] == [
        ("MYSHOP", "approved"),
        ("OTHER", "rejected"),
    ]
    assert client.json()["senders"] == "MYSHOP"
    sent = client.json(send="hi", to=TELE2, **{"from": "MYSHOP"}, fields="sender,status")
    assert sent["send"] == [{"sender": "MYSHOP", "status": "0"}]
    assert_error(client, {"send": "hi", "to": TELE2, "from": "OTHER"}, 204)


def test_operator_added_sender_and_any_sender(
    gate: Server, new_account: Callable[..., Account], api: Api
) -> None:
    account = new_account(balance="100.00")
    client = api.as_key(account.key)
    gate.cli("sender", "add", str(account.id), "CLINIC", "--approve")
    assert client.json(send="hi", to=TELE2, **{"from": "CLINIC"}, fields="sender")["send"] == [
        {"sender": "CLINIC"}
    ]
    free = api.as_key(new_account(balance="100.00", extra=["--any-sender"]).key)
    assert free.json()["any_sender"] == "1"
    assert free.json(send="hi", to=TELE2, **{"from": "ANYNAME"}, fields="sender")["send"] == [
        {"sender": "ANYNAME"}
    ]
    owner = new_account(balance="100.00", extra=["--default-sender", "PHARMACY"])
    gate.cli("sender", "add", str(owner.id), "PHARMACY", "--approve")
    own = api.as_key(owner.key)
    assert own.json()["default_sender"] == "PHARMACY"
    assert own.json(send="hi", to=TELE2, fields="sender")["send"] == [{"sender": "PHARMACY"}]
    assert own.json(send="hi", to=TELE2, **{"from": "INFORM"}, fields="sender")["send"] == [
        {"sender": "INFORM"}
    ]
