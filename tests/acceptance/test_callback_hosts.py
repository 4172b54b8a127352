"""A callback host with no IDNA form (`a..b`, a label over 63 characters) is a bad callback
URL wherever it is given (issue 12, item 6): 260 on API-1, that item alone in an API-2
packet, 645 for `add_sender`; the cabinet's form is in tests/dashboard/test_callback_host.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from .api2_client import Api2
from .support import TELE2, Account, Api, Server

BAD_HOSTS = ["http://a..b/cb", "https://" + "x" * 64 + ".example.com/cb"]
#: Public and never resolvable: accepted (checked again before each attempt).
GOOD = "https://status.example.invalid/cb"


@pytest.fixture
def me(gate: Server, http: httpx.Client, new_account: Callable[..., Account]) -> Account:
    return new_account(balance="100.00")


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_api1_answers_260_and_stores_nothing(
    gate: Server, http: httpx.Client, me: Account, url: str
) -> None:
    api = Api(http, gate.url, me.key)
    assert api.json(send="cb", to=TELE2, callback=url)["error"]["code"] == "260"
    assert api.newest_id() is None
    assert api.balance() == 100


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_api2_fails_only_the_item_with_that_host(
    gate: Server, http: httpx.Client, me: Account, url: str
) -> None:
    answer = Api2(http, gate.url, me.key).send(
        {"id": 1, "to": TELE2, "text": "bad host", "callback": url},
        {"id": 2, "to": TELE2, "text": "good host", "callback": GOOD},
    )
    items = answer["send"]
    assert [(i["id"], i["status"], i["error"]) for i in items] == [(1, -2, 260), (2, 0, 0)]
    stored = Api(http, gate.url, me.key).all_messages(fields="all")
    assert [m["message"] for m in stored] == ["good host"]


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_add_sender_refuses_the_callback_with_645(
    gate: Server, http: httpx.Client, me: Account, url: str
) -> None:
    api = Api(http, gate.url, me.key)
    answer = api.json(add_sender="SHOPNAME", description="our shop", callback=url)
    assert answer["error"]["code"] == "645", answer
    assert api.json(**{"list": "senders"}).get("senders", []) == []
