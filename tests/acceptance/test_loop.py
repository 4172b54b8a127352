"""Loop protection (contract §5.4, error 243): the same text to the same phone within the
account's window is refused per recipient. Off unless configured (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .support import MTS, TELE2, Account, Api, Server

LOOP = ("Loop protection", "Защита от дубликатов")
THIRD = "79087964783"
FOURTH = "79087964784"


def statuses(answer: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {i["phone"]: (i["status"], i.get("error", "0")) for i in answer["send"]}


def test_off_by_default(api: Api, new_account: Callable[..., Account]) -> None:
    client = api.as_key(new_account().key)
    for _ in range(2):
        assert client.json(send="Same", to=TELE2)["send"][0]["status"] == "0"


def test_same_text_to_same_phone_within_the_window_is_243(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    assert gate.cli("loop", "set", str(account.id), "3600").strip().endswith("3600 s")
    client.json(send="Your code 1", to=f"{TELE2},{MTS}")
    answer = client.json(send="Your code 1", to=f"{TELE2},{THIRD},{FOURTH}", fields="all")
    items = {i["phone"]: i for i in answer["send"]}
    refused = items[TELE2]
    assert (refused["status"], refused["error"], refused["price"]) == ("-2", "243", "0.00")
    assert (refused["error_en"], refused["error_ru"]) == LOOP
    assert items[THIRD]["status"] == "0" and items[FOURTH]["status"] == "0"
    # Another text to the same phone is no loop.
    assert client.json(send="Your code 2", to=TELE2)["send"][0]["status"] == "0"
    # More loops than messages: the whole request fails, nothing stored.
    error = client.json(send="Your code 1", to=f"{TELE2},{MTS},79087964785")["error"]
    assert (error["code"], error["description"], error["description_ru"]) == ("243", *LOOP)
    assert client.text(send="Your code 1", to=MTS) == "ERROR=243: LOOP PROTECTION"


def test_refused_items_do_not_count_as_sent(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    gate.cli("loop", "set", str(account.id), "3600")
    gate.cli("stop", "add", "--account", str(account.id), TELE2)
    client.json(send="Once", to=f"{TELE2},{MTS},{THIRD}")  # TELE2: 212, not sent
    gate.cli("stop", "remove", "--account", str(account.id), TELE2)
    assert statuses(client.json(send="Once", to=TELE2)) == {TELE2: ("0", "0")}


def test_window_back_to_off_and_to_the_default(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    gate.cli("loop", "set", str(account.id), "3600")
    client.json(send="Ping", to=TELE2)
    assert client.json(send="Ping", to=TELE2)["error"]["code"] == "243"
    gate.cli("loop", "set", str(account.id), "0")
    assert client.json(send="Ping", to=TELE2)["send"][0]["status"] == "0"
    assert "default (0 s)" in gate.cli("loop", "set", str(account.id), "default")
    assert client.json(send="Ping", to=TELE2)["send"][0]["status"] == "0"
    assert gate.run_cli("loop", "set", str(account.id), "-5").returncode != 0
    assert gate.run_cli("loop", "set", "999999", "5").returncode != 0


def test_api2_items_repeating_a_text_are_refused(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    gate.cli("loop", "set", str(account.id), "600")
    api.as_key(account.key).json(send="Earlier", to=MTS)
    document = {
        "apikey": account.key,
        "send": [
            {"id": 1, "to": TELE2, "text": "Packet"},
            {"id": 2, "to": TELE2, "text": "Packet"},
            {"id": 3, "to": MTS, "text": "Earlier"},
            {"id": 4, "to": MTS, "text": "Packet"},
        ],
    }
    answer = api.client.post(api.url + "/api2.php", json=document).json()
    assert [(i["id"], i["status"], i["error"]) for i in answer["send"]] == [
        (1, 0, 0),
        (2, -2, 243),
        (3, -2, 243),
        (4, 0, 0),
    ]
