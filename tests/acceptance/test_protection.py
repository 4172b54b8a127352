"""Protection against unwanted traffic through the real HTTP API (contract §17): idempotent
retries, geo permissions and content filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx

from .api2_client import Api2
from .support import TELE2, Account, Api, Server, error_json, running

KEY_HEADER = "Idempotency-Key"


def test_a_retried_send_is_answered_again_and_stored_once(
    api: Api, new_account: Callable[..., Account]
) -> None:
    client = api.as_key(new_account().key)
    params = {"send": "Your code 1234", "to": TELE2, "format": "json"}
    first = client.call(params, headers={KEY_HEADER: "order-17"})
    balance = client.balance()
    again = client.call(params, headers={KEY_HEADER: "order-17"})
    # The key may come as a parameter instead, the parameters in any order.
    as_param = client.call(
        {"to": TELE2, "format": "json", "send": "Your code 1234", "idempotency_key": "order-17"}
    )
    assert first.content == again.content == as_param.content
    assert first.headers["content-type"] == again.headers["content-type"]
    assert client.balance() == balance
    assert len(client.all_messages()) == 1
    # The same key with another request is 280; another key is another send.
    reused = client.call({**params, "send": "Your code 9999"}, headers={KEY_HEADER: "order-17"})
    assert reused.json() == error_json(280)
    client.call(params, headers={KEY_HEADER: "order-18"})
    assert len(client.all_messages()) == 2


def test_concurrent_repeats_store_one_message(
    api: Api, new_account: Callable[..., Account]
) -> None:
    client = api.as_key(new_account().key)
    params = {"send": "Once only", "to": TELE2, "format": "json"}

    def send(_: int) -> bytes:
        return client.call(params, headers={KEY_HEADER: "burst"}).content

    with ThreadPoolExecutor(4) as pool:
        answers = set(pool.map(send, range(8)))
    assert len(answers) == 1
    assert len(client.all_messages()) == 1


def test_a_failed_send_keeps_no_answer(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account(balance="0.00")
    client = api.as_key(account.key)
    params = {"send": "Hello", "to": TELE2, "format": "json"}
    assert client.call(params, headers={KEY_HEADER: "k"}).json() == error_json(112)
    # Topped up, the repeat runs again and is sent.
    gate.cli("account", "topup", str(account.id), "10.00")
    assert client.call(params, headers={KEY_HEADER: "k"}).json()["send"][0]["status"] == "0"


def test_api2_document_key(
    api: Api, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    api2 = Api2(http, api.url, account.key)
    document = json.dumps(
        api2.document({"send": [{"id": 1, "to": TELE2, "text": "Hi"}], "idempotency_key": "p-1"})
    )
    first = api2.post(document)
    again = api2.post(document)
    assert first.content == again.content
    assert first.json()["send"][0]["status"] == 0
    assert len(api.as_key(account.key).all_messages()) == 1


def test_geo_permissions_and_content_filters_set_from_the_cli(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    # Set before the account's first send: a running gateway reads an account's settings
    # again only after `tariff_cache_seconds`.
    account = new_account()
    client = api.as_key(account.key)
    kazakhstan = "77011234567"
    out = gate.cli("account", "set", str(account.id), "--countries", "ru,am")
    assert out.strip().startswith(f"account {account.id}: countries=AM,RU stop_words=0 cyrlat=0")
    assert client.json(send="Hi", to=kazakhstan) == error_json(213)
    mixed = client.json(send="Hi", to=f"{TELE2},{kazakhstan},79087964782")["send"]
    assert [(i["status"], i.get("error", "0")) for i in mixed] == [
        ("0", "0"),
        ("-2", "213"),
        ("0", "0"),
    ]
    assert client.balance() == Decimal("1000.00") - 2 * Decimal("3.95")
    assert "account.protections" in gate.cli("audit", str(account.id))

    filtered = new_account()
    gate.cli("account", "set", str(filtered.id), "--stop-words", "casino,free spins", "--cyrlat")
    client = api.as_key(filtered.key)
    assert client.json(send="Big Casino bonus", to=TELE2) == error_json(247)
    assert client.json(send="Вход: sberbank-оnline.ru", to=TELE2) == error_json(248)
    assert client.text(send="Free spins!", to=kazakhstan) == "ERROR=247: FILTER"
    assert client.json(send="Casinos", to=kazakhstan)["send"][0]["status"] == "0"


def test_a_day_cap_refuses_the_send_that_would_pass_it(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    out = gate.cli("account", "set", str(account.id), "--day-cap", "2")
    assert out.strip().endswith("day_cap=2 month_cap=0")
    client = api.as_key(account.key)
    assert len(client.json(send="Hi", to=f"{TELE2},79087964782")["send"]) == 2
    assert client.json(send="Hi", to=TELE2) == error_json(223)
    assert client.text(send="Hi", to=TELE2) == "ERROR=223: SPAM PROTECTION"
    assert len(client.all_messages()) == 2


def test_two_processes_hold_one_cap_and_one_key(tmp_path: Path, database: str) -> None:
    settings = {"PILOTGATE_DATABASE_URL": database, "PILOTGATE_PIPELINE": "false"}
    first, second = (Server(tmp_path / n, "serve", settings=settings) for n in ("a", "b"))
    for server in (first, second):
        server.workdir.mkdir()
    with running(first), running(second), httpx.Client(timeout=30) as http:
        account = first.create_account()
        first.cli("account", "set", str(account.id), "--day-cap", "5")
        clients = [Api(http, s.url, account.key) for s in (first, second)]

        def once(n: int) -> bytes:
            params = {"send": "Once", "to": TELE2, "format": "json"}
            return clients[n % 2].call(params, headers={KEY_HEADER: "both"}).content

        def send(n: int) -> str:
            answer = clients[n % 2].json(send="Hi", to=f"7908796{n:04d}")
            return "sent" if "send" in answer else answer["error"]["code"]

        with ThreadPoolExecutor(6) as pool:
            answers = set(pool.map(once, range(6)))
            assert len(answers) == 1 and b'"status":"0"' in answers.pop()
            outcomes = sorted(pool.map(send, range(12)))
        assert outcomes == ["223"] * 8 + ["sent"] * 4
        assert len(clients[0].all_messages()) == 5
