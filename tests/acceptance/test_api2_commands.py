"""API-2 check, balance, info, inbound and auth (contract §12), several commands in one
document, and the top-level errors (auth, structure, unknown command)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from .api2_client import Api2, error
from .support import DEMO_EMAIL, DEMO_PASSWORD, MTS, TELE2, TELE2_PRICE, TIME_RE, Account, Server

CHECK_KEYS = [
    "id",
    "server_id",
    "from",
    "to",
    "parts",
    "status",
    "error",
    "send_datetime",
    "modified",
    "country",
    "operator",
    "price",
]


@pytest.fixture
def fresh(gate: Server, http: httpx.Client, new_account: Callable[..., Account]) -> Api2:
    return Api2(http, gate.url, new_account(balance="100.00").key)


@pytest.fixture
def anonymous(gate: Server, http: httpx.Client) -> Api2:
    return Api2(http, gate.url, None)


def test_check_by_ids_single_object_bare_ids_and_unknown_ones(
    fresh: Api2, anonymous: Api2, new_account: Callable[..., Account]
) -> None:
    sent = fresh.send({"id": 1, "to": TELE2, "text": "a"}, {"id": 2, "to": MTS, "text": "b"})
    one, two = (item["server_id"] for item in sent["send"])
    stranger = anonymous.as_key(new_account(balance="10.00").key)
    theirs = stranger.send({"to": TELE2, "text": "not yours"})["send"][0]["server_id"]
    answer = fresh({"check": [{"server_id": one}, {"server_id": int(two)}, two, theirs, "x1"]})
    rows = answer["check"]
    assert all(list(row) == CHECK_KEYS for row in rows)
    assert [(r["server_id"], r["status"], r["error"]) for r in rows] == [
        (one, rows[0]["status"], 0),
        (two, rows[1]["status"], 0),
        (two, rows[2]["status"], 0),
        (theirs, -2, 302),
        ("x1", -2, 301),
    ]
    assert rows[0]["status"] in (0, 1, 2) and rows[0]["to"] == TELE2
    assert Decimal(str(rows[0]["price"])) == TELE2_PRICE
    assert rows[3]["to"] == ""  # another account's message shows nothing of it
    listed = fresh({"check": f"{one},{two}"})["check"]
    assert [r["server_id"] for r in listed] == [one, two]
    single = fresh({"check": {"server_id": one}})["check"]
    assert [r["server_id"] for r in single] == [one]
    packet = fresh({"check": True, "server_packet_id": sent["server_packet_id"]})["check"]
    assert sorted(r["server_id"] for r in packet) == sorted([one, two])
    assert fresh({"check": True, "server_packet_id": theirs})["check"] == []


def test_check_structure_errors(fresh: Api2) -> None:
    assert fresh({"check": []}) == error(300)
    assert fresh({"check": True}) == error(304)
    assert fresh({"check": True, "server_packet_id": "abc"}) == error(304)
    assert fresh({"check": list(range(1, 1002))}) == error(303)


def test_balance_rur_sms_and_after_a_send_in_the_same_document(fresh: Api2) -> None:
    assert fresh({"balance": True}) == {"balance": 100}
    assert fresh({"balance": "rur"}) == {"balance": 100}
    sms = fresh({"balance": "sms"})["balance"]
    assert isinstance(sms, int) and sms > 0
    answer = fresh({"send": [{"to": TELE2, "text": "x"}], "balance": "rur"})
    assert answer["balance"] == float(Decimal("100.00") - TELE2_PRICE)
    assert fresh({"balance": True}) == {"balance": answer["balance"]}


def test_info_value_types(fresh: Api2) -> None:
    info = fresh({"info": True})["info"]
    assert list(info) == [
        "id",
        "tariff_id",
        "email",
        "phone",
        "name",
        "balance",
        "date",
        "senders",
        "default_sender",
        "any_sender",
    ]
    assert isinstance(info["id"], int) and isinstance(info["tariff_id"], int)
    assert info["balance"] == 100 and info["any_sender"] == 0
    assert info["default_sender"] == "INFORM" and TIME_RE.match(info["date"])


def test_inbound_all_and_since(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    account = new_account(balance="0")
    client = Api2(http, gate.url, account.key)
    first = gate.inbound(account, phone=TELE2, num="79021121075", text="1 test")
    rows = client({"inbound": True})["inbound"]
    assert rows == [
        {
            "id": first,
            "phone": TELE2,
            "num": "79021121075",
            "text": "1 test",
            "created": rows[0]["created"],
            "server_id": "",
        }
    ]
    assert TIME_RE.match(rows[0]["created"])
    assert client({"inbound": True, "since": "2999-01-01 00:00:00"}) == {"inbound": []}
    assert len(client({"inbound": True, "since": "2000-01-01 00:00:00"})["inbound"]) == 1
    assert client({"inbound": True, "since": "yesterday"}) == error(500)


def test_several_commands_in_one_document(fresh: Api2) -> None:
    answer = fresh({"send": [{"id": "a", "to": TELE2, "text": "x"}], "info": True, "inbound": True})
    assert set(answer) == {"send", "server_packet_id", "balance", "cost", "info", "inbound"}
    assert answer["info"]["balance"] == answer["balance"]


def test_a_bad_command_after_a_send_fails_the_document_before_anything_is_stored(
    fresh: Api2,
) -> None:
    assert fresh({"send": [{"to": TELE2, "text": "x"}], "inbound": "bad"}) == error(500)
    assert fresh({"send": [{"to": TELE2, "text": "x"}], "check": []}) == error(300)
    assert fresh({"check": True, "server_packet_id": "0"})["check"] == []
    assert fresh({"balance": True}) == {"balance": 100}


def test_unknown_command_and_structure(fresh: Api2) -> None:
    assert fresh({"hello": 1}) == error(14)
    assert fresh({"balance": False}) == error(14)
    send: object
    for send in ("hello", [], 5, None):
        expected = error(14) if send is None else error(240)
        assert fresh({"send": send}) == expected
    assert fresh({"send": ["not an object", {"to": TELE2, "text": "x"}]})["send"][0]["error"] == (
        240
    )


def test_auth_errors_and_login_password(anonymous: Api2) -> None:
    assert anonymous({"balance": True}) == error(100)
    assert anonymous({"apikey": "short", "balance": True}) == error(101)
    assert anonymous({"apikey": 12345, "balance": True}) == error(101)
    assert anonymous({"apikey": "Z" * 64, "balance": True}) == error(102)
    assert anonymous({"login": DEMO_EMAIL, "balance": True}) == error(401)
    assert anonymous({"login": DEMO_EMAIL, "password": "wrong", "balance": True}) == error(400)
    assert anonymous({"login": ["x"], "password": "y", "balance": True}) == error(401)
    ok = anonymous({"login": DEMO_EMAIL, "password": DEMO_PASSWORD, "balance": True})
    assert isinstance(ok["balance"], int | float)
    # Auth comes first: an unauthenticated caller learns nothing about its document.
    assert anonymous({"send": "broken"}) == error(100)


def test_metrics_count_api2_requests(fresh: Api2, anonymous: Api2) -> None:
    metrics = fresh.endpoint.replace("/api2.php", "/metrics")

    def count(result: str) -> float:
        name = f'pilotgate_api_requests_total{{command="api2",result="{result}"}}'
        for line in fresh.client.get(metrics).text.split("\n"):
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    ok, refused = count("ok"), count("100")
    fresh({"balance": True})
    anonymous({"balance": True})
    assert (count("ok"), count("100")) == (ok + 1, refused + 1)
