"""Stop lists (contract §5.4, error 212): per account and global, managed with
`pilotgate stop`, and filled by inbound replies with a stop word."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .support import MTS, TELE2, TELE2_PRICE, Account, Api, Server

BLACK_LIST = ("Phone in black list", "Телефон в черном списке")
OTHER = "79087964782"


def items_by_phone(answer: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {item["phone"]: item for item in answer["send"]}


def test_a_listed_phone_is_an_uncharged_212_item(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    assert gate.cli("stop", "add", "--account", str(account.id), "+7 908 796-47-81").strip() == (
        "added 1 of 1"
    )
    answer = client.json(send="Hello", to=f"{TELE2},{MTS},{OTHER}", fields="all")
    items = items_by_phone(answer)
    listed = items[TELE2]
    assert (listed["status"], listed["price"], listed["error"]) == ("-2", "0.00", "212")
    assert (listed["error_en"], listed["error_ru"]) == BLACK_LIST
    assert items[MTS]["status"] == "0" and items[OTHER]["status"] == "0"
    assert Decimal(answer["cost"]) == Decimal(items[MTS]["price"]) + TELE2_PRICE
    assert client.balance() == Decimal("1000.00") - Decimal(answer["cost"])
    # check answers the refused item too, with its error.
    checked = client.json(check=listed["server_id"])["check"][0]
    assert (checked["status"], checked["error"]) == ("-2", "212")


def test_more_refusals_than_messages_fail_the_whole_request(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    gate.cli("stop", "add", "--account", str(account.id), TELE2, MTS)
    error = client.json(send="Hello", to=f"{TELE2},{MTS},{OTHER}")["error"]
    assert (error["code"], error["description"], error["description_ru"]) == ("212", *BLACK_LIST)
    assert client.text(send="Hello", to=TELE2) == "ERROR=212: PHONE IN BLACK LIST"
    assert client.newest_id() is None  # nothing stored
    assert client.balance() == Decimal("1000.00")  # nothing charged


def test_the_global_list_applies_to_every_account_until_removed(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    phone = "79087960001"
    one, two = api.as_key(new_account().key), api.as_key(new_account().key)
    gate.cli("stop", "add", "--global", phone, "--reason", "complaint")
    assert phone in gate.cli("stop", "list", "--global")
    for client in (one, two):
        assert client.json(send="Hi", to=phone)["error"]["code"] == "212"
    gate.cli("stop", "remove", "--global", phone)
    assert one.json(send="Hi", to=phone)["send"][0]["status"] == "0"


def test_another_accounts_list_does_not_apply(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    listing, other = new_account(), new_account()
    gate.cli("stop", "add", "--account", str(listing.id), TELE2)
    assert api.as_key(other.key).json(send="Hi", to=TELE2)["send"][0]["status"] == "0"


def test_an_inbound_stop_word_puts_the_phone_on_the_accounts_list(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account, other = new_account(), new_account()
    client = api.as_key(account.key)
    assert client.json(send="Hi", to=OTHER)["send"][0]["status"] == "0"
    gate.inbound(account, phone=OTHER, num="79021121075", text="hello back")
    assert OTHER not in gate.cli("stop", "list", "--account", str(account.id))
    gate.inbound(account, phone="+7 908 796-47-82", num="79021121075", text="  стоп \n")
    assert OTHER in gate.cli("stop", "list", "--account", str(account.id))
    assert client.json(send="Hi again", to=OTHER)["error"]["code"] == "212"
    # The inbound SMS itself is still delivered to the account.
    texts = [item["text"] for item in client.json(inbound="all")["inbound"]]
    assert "  стоп \n" in texts
    assert api.as_key(other.key).json(send="Hi", to=OTHER)["send"][0]["status"] == "0"


def test_a_ten_thousand_recipient_send_is_screened(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account(balance="100000.00")
    client = api.as_key(account.key)
    phones = [f"7908{n:07d}" for n in range(10_000)]
    gate.cli("stop", "add", "--account", str(account.id), *phones[::100])
    response = client.call(
        {"send": "Bulk", "format": "json", "cost": "1"},
        method="POST",
        data={"to": ",".join(phones)},
    )
    # cost=1 prices the send as it would be stored: the 100 listed phones cost nothing.
    assert Decimal(response.json()["cost"]) == TELE2_PRICE * 9_900


def test_cli_refuses_a_missing_or_double_scope(gate: Server) -> None:
    assert gate.run_cli("stop", "add", TELE2).returncode != 0
    assert gate.run_cli("stop", "list", "--account", "1", "--global").returncode != 0
    assert gate.run_cli("stop", "remove", "--global", "79000000000").returncode != 0
