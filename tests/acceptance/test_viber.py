"""Viber and hybrid Viber (contract §13.4) through the whole gateway with its emulator: `VIBER`
goes to Viber only; `VIBERSMS` becomes an SMS from the account's default sender when the
Viber attempt fails (the emulator finds no Viber on numbers ending in 9) — one server_id,
the SMS price charged instead, `sender_orig` VIBERSMS. The fallback through a relay to a
second gateway is in test_relay.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx

from .support import TELE2, TELE2_PRICE, Account, Api, Server, running
from .test_crash import ReceiverThread
from .test_hlr import _settings

VIBER_PRICE = Decimal("1.90")  # the default tariff's Russian viber row
NO_VIBER = "79087964789"  # Tele2, and the emulator's "no Viber" digit
UNDELIVERABLE = "79087964780"  # the emulator delivers nothing to numbers ending in 0


def test_viber_is_delivered_at_the_viber_price(api: Api, new_account: Callable[..., Account]):
    client = api.as_key(new_account().key)
    (item,) = client.json(send="Hi on Viber", to=TELE2, **{"from": "VIBERSMS"})["send"]
    assert item["price"] == "1.90"
    final = client.wait_status(item["server_id"])
    assert (final["status"], final["sender"], final["sender_orig"]) == ("2", "VIBERSMS", "")
    assert final["price"] == "1.90"
    assert client.balance() == Decimal("1000.00") - VIBER_PRICE


def test_vibersms_without_viber_is_sent_as_an_sms_from_the_default_sender(
    gate: Server, api: Api, new_account: Callable[..., Account]
):
    account = new_account()
    gate.cli("account", "set", str(account.id), "--default-sender", "INFORM")
    client = api.as_key(account.key)
    (item,) = client.json(send="Your code 1234", to=NO_VIBER, **{"from": "VIBERSMS"})["send"]
    assert (item["status"], item["price"]) == ("0", "1.90")  # the Viber price, at first
    final = client.wait_status(item["server_id"])
    assert (final["status"], final["error"]) == ("2", "0")
    assert (final["sender"], final["sender_orig"], final["parts"]) == ("INFORM", "VIBERSMS", "1")
    assert final["price"] == "3.95"  # the SMS price instead
    assert client.balance() == Decimal("1000.00") - TELE2_PRICE
    # Plain VIBER has no fallback: not delivered, and charged like any -1.
    (viber,) = client.json(send="Viber only", to=NO_VIBER, **{"from": "VIBER"})["send"]
    final = client.wait_status(viber["server_id"])
    assert (final["status"], final["error"], final["sender_orig"]) == ("-1", "605", "")
    assert client.balance() == Decimal("1000.00") - TELE2_PRICE - VIBER_PRICE


def test_an_undeliverable_fallback_ends_not_delivered_and_charged(
    api: Api, new_account: Callable[..., Account]
):
    client = api.as_key(new_account().key)
    (item,) = client.json(send="Hello", to=UNDELIVERABLE, **{"from": "VIBERSMS"})["send"]
    final = client.wait_status(item["server_id"])
    # Viber failed (601), so did the SMS it became: -1 with the SMS's error, SMS price kept.
    assert (final["status"], final["error"], final["sender_orig"]) == ("-1", "601", "VIBERSMS")
    assert client.balance() == Decimal("1000.00") - TELE2_PRICE


def test_a_vibersms_text_must_fit_an_sms(api: Api, new_account: Callable[..., Account]):
    client = api.as_key(new_account().key)
    long_text = "Ж" * 900  # fine for Viber (1000 characters), 14 SMS parts
    assert client.json(send=long_text, to=TELE2, **{"from": "VIBER"})["send"][0]["status"] == "0"
    answer = client.json(send=long_text, to=TELE2, **{"from": "VIBERSMS"})
    assert answer["error"]["code"] == "221"


def test_no_fallback_when_the_sms_difference_cannot_be_paid(
    api: Api, new_account: Callable[..., Account]
):
    client = api.as_key(new_account(balance="2.00").key)
    (item,) = client.json(send="Hello", to=NO_VIBER, **{"from": "VIBERSMS"})["send"]
    final = client.wait_status(item["server_id"])
    # 0.10 left cannot pay the SMS's 3.95 - 1.90: the Viber failure stands.
    assert (final["status"], final["error"], final["sender_orig"]) == ("-1", "605", "")
    assert client.balance() == Decimal("0.10")


def test_the_fallback_reports_handed_over_then_delivered(tmp_path: Path, database: str):
    with ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            account = server.create_account(balance="10.00")
            client = Api(http, server.url, account.key)
            url = receiver.url + "?fields=sender,sender_orig,price"
            answer = client.json(send="Hi", to=NO_VIBER, callback=url, **{"from": "VIBERSMS"})
            server_id = answer["send"][0]["server_id"]
            assert client.wait_status(server_id)["status"] == "2"
            got = receiver.receiver
            assert got is not None
            deadline = time.monotonic() + 15
            while not any(c.params.get("status") == "2" for c in got.acknowledged):
                assert time.monotonic() < deadline, [c.params for c in got.requests]
                time.sleep(0.05)  # a poll interval, not a synchronisation
            reports = [
                (c.params["status"], c.params["sender"], c.params["price"])
                for c in got.acknowledged
                if c.params["server_id"] == server_id
            ]
            # 1 (handed to Viber), 1 (handed over as SMS), 2: never 0, never -1.
            assert [r[0] for r in reports] == ["1", "1", "2"]
            assert reports[-1] == ("2", "INFORM", "3.95")
            assert client.balance() == Decimal("6.05")  # 10.00 - 3.95
