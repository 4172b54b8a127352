"""Cancelling a scheduled message over HTTP (contract §7.1, ours): API-1 `cancel=<server_id>`
and API-2 `"cancel"`. The message ends -2 with error 604, its price comes back exactly, its
status callback is owed like any other; what cannot be cancelled has its own error."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import httpx

from .api2_client import Api2
from .support import TELE2, TELE2_PRICE, Account, Api, Server

NOT_CANCELLABLE = {
    "error": {
        "code": "305",
        "description": "SMS cannot be cancelled",
        "description_ru": "SMS нельзя отменить",
    }
}


def _in_an_hour() -> str:
    return str(int(time.time()) + 3600)


def test_api1_cancels_a_scheduled_message_and_refunds_it(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    api = Api(http, gate.url, new_account(balance="100.00").key)
    sent = api.json(send="Later", to=TELE2, send_datetime=_in_an_hour())["send"][0]
    assert sent["status"] == "3"
    assert api.balance() == Decimal("100.00") - TELE2_PRICE
    [item] = api.json(cancel=sent["server_id"], fields="server_id,status,error,price")["check"]
    assert (item["server_id"], item["status"], item["error"], item["price"]) == (
        sent["server_id"],
        "-2",
        "604",
        str(TELE2_PRICE),
    )
    assert item["error_en"] == "Cancelled"
    assert api.balance() == Decimal("100.00")
    # Once cancelled it cannot be cancelled again, and nothing is refunded twice.
    assert api.json(cancel=sent["server_id"]) == NOT_CANCELLABLE
    assert api.text(cancel=sent["server_id"]) == "ERROR=305: SMS CANNOT BE CANCELLED"
    assert api.balance() == Decimal("100.00")


def test_api1_refuses_what_is_not_a_scheduled_message_of_the_caller(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    api = Api(http, gate.url, new_account(balance="100.00").key)
    stranger = api.as_key(new_account(balance="100.00").key)
    theirs = stranger.json(send="Theirs", to=TELE2, send_datetime=_in_an_hour())["send"][0]
    queued = api.json(send="Now", to=TELE2)["send"][0]
    codes = [
        api.json(cancel=value)["error"]["code"]
        for value in (queued["server_id"], theirs["server_id"], "987654321", "x1", " ")
    ]
    assert codes == ["305", "302", "302", "301", "300"]
    assert stranger.json(check=theirs["server_id"])["check"][0]["status"] == "3"
    assert api.balance() == Decimal("100.00") - TELE2_PRICE


def test_api2_cancels_items_each_on_its_own(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    api2 = Api2(http, gate.url, new_account(balance="100.00").key)
    later = api2.send(
        {"id": 1, "to": TELE2, "text": "a", "send_datetime": _in_an_hour()},
        {"id": 2, "to": TELE2, "text": "b"},
    )
    scheduled, queued = (item["server_id"] for item in later["send"])
    answer = api2({"cancel": [{"server_id": scheduled}, queued, "x1"], "balance": True})
    rows = answer["cancel"]
    assert [(r["server_id"], r["id"], r["status"], r["error"]) for r in rows] == [
        (scheduled, 1, -2, 604),
        (queued, 0, -2, 305),
        ("x1", 0, -2, 301),
    ]
    # The balance in the same document already has the refund.
    assert Decimal(str(answer["balance"])) == Decimal("100.00") - TELE2_PRICE
    check = api2({"check": [scheduled]})["check"][0]
    assert (check["status"], check["error"]) == (-2, 604)
