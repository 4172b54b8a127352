"""API-2 send (contract §12): packets of different texts, API-2 value types, per-item errors that
never fail the packet, and a packet stored and charged all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from .api2_client import Api2, error
from .support import MTS, MTS_PRICE, TELE2, TELE2_PRICE, TIME_RE, Account, Api, Server

ITEM_KEYS = [
    "id",
    "server_id",
    "from",
    "to",
    "text",
    "parts",
    "status",
    "error",
    "send_datetime",
    "country",
    "operator",
    "price",
]


@dataclass(frozen=True)
class Client:
    """One fresh account seen through both APIs."""

    account: Account
    api2: Api2
    api1: Api

    def balance(self) -> Decimal:
        return self.api1.balance()

    def stored(self) -> list[dict[str, str]]:
        return self.api1.all_messages(fields="all")


@pytest.fixture
def client(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> Callable[..., Client]:
    def make(balance: str = "1000.00", extra: tuple[str, ...] = ()) -> Client:
        account = new_account(balance=balance, extra=extra)
        return Client(account, Api2(http, gate.url, account.key), Api(http, gate.url, account.key))

    return make


def number(value: object) -> Decimal:
    """A JSON number (never a string) as an exact decimal."""
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(str(value))


def test_a_packet_of_different_texts_with_api2_value_types(client: Callable[..., Client]) -> None:
    me = client()
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "Hello Ann"},
        {"id": "b-2", "to": int(MTS), "text": "Привет, Борис", "from": "INFORM"},
        {"id": 3.5, "to": "+7 (908) 796-47-81", "text": "Hello again"},
        {"to": MTS, "text": "no id"},
    )
    first, second, third, fourth = answer["send"]
    for item in answer["send"]:
        assert list(item) == ITEM_KEYS
        assert item["server_id"].isdigit()
        assert (item["status"], item["error"], item["send_datetime"]) == (0, 0, "")
        assert item["parts"] == 1 and item["country"] == "RU" and item["from"] == "INFORM"
    # An item without `id` is answered with 0, as the API-2 document's own example shows.
    assert [i["id"] for i in answer["send"]] == [1, "b-2", 3.5, 0]
    assert [i["to"] for i in answer["send"]] == [TELE2, MTS, TELE2, MTS]
    assert [i["text"] for i in answer["send"]] == [
        "Hello Ann",
        "Привет, Борис",
        "Hello again",
        "no id",
    ]
    assert [number(i["price"]) for i in answer["send"]] == [TELE2_PRICE, MTS_PRICE] * 2
    assert isinstance(answer["server_packet_id"], str)
    assert answer["server_packet_id"] == first["server_id"]
    assert number(answer["cost"]) == 2 * (TELE2_PRICE + MTS_PRICE)
    assert number(answer["balance"]) == Decimal("1000.00") - number(answer["cost"])
    assert me.balance() == number(answer["balance"])
    stored = {m["server_id"]: m for m in me.stored()}
    for item in (first, second, third, fourth):
        assert stored[item["server_id"]]["message"] == item["text"]
        assert stored[item["server_id"]]["phone"] == item["to"]


def test_a_single_object_is_a_packet_of_one(client: Callable[..., Client]) -> None:
    me = client()
    answer = me.api2({"send": {"id": "only", "to": TELE2, "text": "alone"}})
    assert [(i["id"], i["status"]) for i in answer["send"]] == [("only", 0)]
    assert [m["message"] for m in me.stored()] == ["alone"]


def test_texts_with_nul_and_astral_characters_are_stored_as_sent(
    client: Callable[..., Client],
) -> None:
    me = client()
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "a\u0000b"}, {"id": 2, "to": TELE2, "text": "ok 😀"}
    )
    assert [i["text"] for i in answer["send"]] == ["ab", "ok 😀"]
    assert sorted(m["message"] for m in me.stored()) == ["ab", "ok 😀"]


def test_a_mixed_packet_sends_the_valid_items_and_reports_the_others(
    client: Callable[..., Client],
) -> None:
    me = client()
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "valid one"},
        {"id": 2, "to": "not-a-phone", "text": "x"},
        {"id": 3, "to": MTS, "text": "x", "from": "UNKNOWNCO"},
        {"id": 4, "to": MTS, "text": ""},
        {"id": 5, "to": MTS, "text": "x", "send_datetime": "31.12.2030 10:00"},
        {"id": 6, "to": MTS, "text": "valid two"},
    )
    items = answer["send"]
    assert [(i["id"], i["status"], i["error"]) for i in items] == [
        (1, 0, 0),
        (2, -2, 111),
        (3, -2, 204),
        (4, -2, 220),
        (5, -2, 250),
        (6, 0, 0),
    ]
    for failed in items[1:5]:
        assert list(failed) == ITEM_KEYS
        assert failed["server_id"] == "0" and failed["price"] == 0 and failed["parts"] == 0
    assert items[2]["from"] == "UNKNOWNCO" and items[4]["send_datetime"] == "31.12.2030 10:00"
    assert number(answer["cost"]) == TELE2_PRICE + MTS_PRICE
    assert answer["server_packet_id"] == items[0]["server_id"]
    assert me.balance() == Decimal("1000.00") - TELE2_PRICE - MTS_PRICE
    # Only the accepted items exist: nothing was stored for the refused ones.
    assert sorted(m["message"] for m in me.stored()) == ["valid one", "valid two"]


def test_a_packet_whose_items_all_fail_stores_and_charges_nothing(
    client: Callable[..., Client],
) -> None:
    me = client()
    answer = me.api2.send({"id": 1, "to": "7908796478", "text": "x"}, {"id": 2, "to": TELE2})
    assert [(i["status"], i["error"]) for i in answer["send"]] == [(-2, 215), (-2, 220)]
    assert (answer["server_packet_id"], answer["cost"], answer["balance"]) == ("0", 0, 1000)
    assert me.stored() == []


def test_not_enough_money_for_the_packet_stores_nothing(client: Callable[..., Client]) -> None:
    me = client(balance="5.00")
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "fits alone"}, {"id": 2, "to": MTS, "text": "too much"}
    )
    assert answer == error(112)
    assert me.stored() == [] and me.balance() == Decimal("5.00")


def test_scheduling_parts_ttl_and_callbacks_per_item(client: Callable[..., Client]) -> None:
    me = client()
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    long_text = "x" * 161  # two GSM-7 parts
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "at a time", "send_datetime": f"{later:%Y-%m-%d %H:%M:%S}"},
        {"id": 2, "to": TELE2, "text": "unix time", "send_datetime": int(later.timestamp())},
        {"id": 3, "to": TELE2, "text": long_text, "ttl": 5},
        {"id": 4, "to": TELE2, "text": "cb", "callback": "https://example.com/cb"},
        {"id": 5, "to": TELE2, "text": "cb", "callback": "ftp://example.com/cb"},
        {"id": 6, "to": TELE2, "text": "m", "callback": "https://e.com/", "callback_method": "put"},
        {"id": 7, "to": TELE2, "text": "ttl", "ttl": 0},
        {"id": 8, "to": TELE2, "text": "cb", "callback_method": "post", "ttl": "1440"},
        # Internal addresses are refused by the callback policy (contract §8, our decision).
        {"id": 9, "to": TELE2, "text": "cb", "callback": "http://127.0.0.1:9/status?id=9"},
        {"id": 10, "to": TELE2, "text": "cb", "callback": "http://127.0.0.1:9/status?id=10"},
    )
    items = answer["send"]
    assert [(i["status"], i["error"]) for i in items] == [
        (3, 0),
        (3, 0),
        (0, 0),
        (0, 0),
        (-2, 260),
        (-2, 260),
        (-2, 270),
        (0, 0),
        (-2, 260),
        (-2, 260),
    ]
    assert items[0]["send_datetime"] == items[1]["send_datetime"] == f"{later:%Y-%m-%d %H:%M:%S}"
    assert TIME_RE.match(items[0]["send_datetime"])
    assert items[2]["parts"] == 2 and number(items[2]["price"]) == 2 * TELE2_PRICE


def test_top_level_from_test_cost_and_callback_are_defaults(
    gate: Server, client: Callable[..., Client]
) -> None:
    me = client()
    gate.cli("sender", "add", str(me.account.id), "CLINIC", "--approve")
    quote = me.api2.send(
        {"id": 1, "to": TELE2, "text": "a"}, {"id": 2, "to": MTS, "text": "b"}, cost=1
    )
    assert number(quote["cost"]) == TELE2_PRICE + MTS_PRICE
    assert [i["server_id"] for i in quote["send"]] == ["0", "0"]
    assert me.stored() == [] and me.balance() == Decimal("1000.00")
    answer = me.api2.send(
        {"id": 1, "to": TELE2, "text": "a"},
        {"id": 2, "to": MTS, "text": "b", "from": "INFORM"},
        {"id": 3, "to": MTS, "text": "c", "callback": ""},
        **{"from": "CLINIC", "test": 1, "callback": "https://example.com/status"},
    )
    assert [i["from"] for i in answer["send"]] == ["CLINIC", "INFORM", "CLINIC"]
    assert [i["status"] for i in answer["send"]] == [0, 0, 0]
    final = me.api1.wait_status(answer["send"][0]["server_id"])
    assert final["status"] == "2" and final["sender"] == "CLINIC"


def test_duplicate_ids_keep_the_first_item_and_refuse_the_others(
    client: Callable[..., Client],
) -> None:
    me = client()
    answer = me.api2.send(
        {"id": 7, "to": TELE2, "text": "first"},
        {"id": 7, "to": MTS, "text": "second"},
        {"id": "7", "to": MTS, "text": "a string id is another id"},
    )
    assert [(i["id"], i["status"], i["error"]) for i in answer["send"]] == [
        (7, 0, 0),
        (7, -2, 230),
        ("7", 0, 0),
    ]
    assert sorted(m["message"] for m in me.stored()) == ["a string id is another id", "first"]


WRONG_TYPES = [
    ("to", [TELE2], 111),
    ("to", {"phone": TELE2}, 111),
    ("to", 7.9087964781e10, 111),
    ("to", True, 111),
    ("to", None, 108),
    ("from", ["INFORM"], 115),
    ("from", 1.5, 115),
    ("text", {"body": "x"}, 220),
    ("text", None, 220),
    ("text", False, 220),
    ("send_datetime", ["2030-01-01 00:00:00"], 250),
    ("send_datetime", "tomorrow", 250),
    ("ttl", "five", 270),
    ("ttl", [5], 270),
    ("ttl", 1441, 270),
    ("callback", {"url": "https://example.com"}, 260),
    ("callback", 12345, 260),
    ("callback_method", ["post"], 260),
    ("id", {"a": 1}, 230),
    ("id", [1], 230),
]


def test_a_wrong_type_in_any_field_is_that_items_error(client: Callable[..., Client]) -> None:
    me = client()
    bad = [
        {"id": f"bad-{n}", "to": MTS, "text": "bad one", field: value}
        for n, (field, value, _) in enumerate(WRONG_TYPES)
    ]
    answer = me.api2.send({"id": "good", "to": TELE2, "text": "good one"}, *bad)
    errors = [(i["status"], i["error"]) for i in answer["send"]]
    assert errors == [(0, 0)] + [(-2, code) for _, _, code in WRONG_TYPES]
    assert [m["message"] for m in me.stored()] == ["good one"]
