"""Number checks over real HTTP (issue 6, item 1; contract §13.1): `send=HLR|PING|HLRVIP`
priced from the tariff's hlr/ping rows, answered by the emulator from the numbering plan,
results in `check`, `fields=all` and callbacks; PING over SMPP (`pilotgate smsc-sim`);
HLRVIP with a PING whose verdict wins for a route flagged `--hlr-unreliable`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx

from .support import Api, Server, error_json, running
from .test_crash import ReceiverThread
from .test_smpp import simulator

MTS = "79161234567"  # a valid MTS mobile: served
MTS_UNSERVED = "79161234560"  # the emulator's unserved digit
LANDLINE = "74951234567"  # Moscow fixed line: no HLR serves it
RESULT_FIELDS = ("imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet", "gscn", "gnet")


def _settings(database: str) -> dict[str, str]:
    return {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
        "PILOTGATE_POLL_INTERVAL": "0.05",
        "PILOTGATE_TARIFF_CACHE_SECONDS": "0",
    }


def test_hlr_answers_from_the_numbering_plan_priced_per_number(demo: Api) -> None:
    before = demo.balance()
    answer = demo.json(send="HLR", to=f"{MTS},{MTS_UNSERVED},{LANDLINE}")
    assert answer["cost"] == "0.75"  # three numbers at the hlr row's 0.25, one part each
    assert demo.balance() == before - Decimal("0.75")
    served, unserved, landline = (item["server_id"] for item in answer["send"])
    final = demo.wait_status(served)
    assert (final["status"], final["error"], final["sender"]) == ("2", "0", "HLR")
    assert (final["mcc"], final["mnc"], final["cn"], final["net"]) == ("250", "01", "RU", "MTS")
    assert re.fullmatch(r"25001\d{10}", final["imsi"]), final
    assert re.fullmatch(r"7916\d{7}", final["msc"]), final
    assert final["rcn"] == final["gscn"] == final["rnet"] == final["gnet"] == ""
    # The same answer again (stable per number), and in check's default fields too.
    (plain,) = demo.json(check=served)["check"]
    assert set(plain) == {"server_id", "phone", "price", "status", *RESULT_FIELDS}
    assert plain["imsi"] == final["imsi"]
    not_served = demo.wait_status(unserved)
    assert (not_served["status"], not_served["error"]) == ("-1", "602")
    assert (not_served["net"], not_served["imsi"]) == ("MTS", "")
    assert demo.wait_status(landline)["status"] == "-1"
    assert demo.balance() == before - Decimal("0.75")  # a -1 stays charged
    # Text stays at four columns; XML carries the fields as attributes.
    assert demo.text(check=served) == f"{served},{MTS},0.25,2"
    assert 'net="MTS"' in demo.xml(check=served)


def test_ping_and_hlrvip_through_the_demo_emulator(demo: Api) -> None:
    answer = demo.json(send="PING", to=f"{MTS},{MTS_UNSERVED}", fields="all")
    assert answer["cost"] == "0.70"
    online, offline = (item["server_id"] for item in answer["send"])
    assert answer["send"][0]["net"] == ""  # fields=all names them before the answer
    assert demo.wait_status(online)["status"] == "2"
    assert demo.wait_status(offline)["error"] == "602"
    # from=HLRVIP is the same check as send=HLRVIP; nothing is flagged for the demo account.
    (item,) = demo.json(send="any text", to=MTS, **{"from": "HLRVIP"})["send"]
    assert item["price"] == "0.25"
    final = demo.wait_status(item["server_id"])
    assert (final["status"], final["sender"], final["net"]) == ("2", "HLRVIP", "MTS")
    # SMS keep their usual items: no result fields.
    (sms,) = demo.json(send="hello", to=MTS)["send"]
    assert "imsi" not in demo.wait_status(sms["server_id"])


def test_at_most_500_numbers_per_check(demo: Api) -> None:
    numbers = [f"7916{n:07d}" for n in range(501)]
    assert demo.json(send="HLR", to=",".join(numbers)) == error_json(240)
    assert demo.json(send="PING", to=",".join(numbers[:500]), cost="1") == {"cost": "175.00"}


def test_results_reach_status_callbacks(tmp_path: Path, database: str) -> None:
    with ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            client = Api(http, server.url, server.create_account(balance="10.00").key)
            url = receiver.url + "?fields=price"
            (item,) = client.json(send="HLR", to=MTS, callback=url)["send"]
            final = client.wait_status(item["server_id"])
            got = receiver.receiver
            assert got is not None
            _wait_for(
                lambda: any(c.params.get("status") == "2" for c in got.acknowledged),
                lambda: f"{[c.params for c in got.requests]}\n{server.log}",
            )
            by_status = {c.params["status"]: c.params for c in got.acknowledged}
            assert by_status["1"]["imsi"] == ""  # not final yet: the fields are empty
            done = by_status["2"]
            assert {k: done[k] for k in RESULT_FIELDS} == {k: final[k] for k in RESULT_FIELDS}
            assert done["price"] == "0.25"


def test_ping_over_smpp_and_hlrvip_where_ping_wins(tmp_path: Path, database: str) -> None:
    with simulator() as port:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            server.cli(
                "connector", "add", "smpp", "sim", "--host", "127.0.0.1", "--port", str(port),
                "--system-id", "pilot", "--password", "secret",
            )  # fmt: skip
            # An HLR that answers "not served" for every number, trusted except for MTS.
            server.cli("connector", "add", "hlr", "home", "--set", "unserved_suffixes=0123456789")
            server.cli("route", "add", "*", "ping", "sim")
            server.cli("route", "add", "*", "hlr", "home")
            out = server.cli("route", "add", "7916", "hlr", "home", "--hlr-unreliable")
            assert "hlr unreliable" in out
            assert "7916\thlr\thome\thlr-unreliable" in server.cli("route", "list")
            client = Api(http, server.url, server.create_account(balance="10.00").key)
            (ping,) = client.json(send="PING", to="79031234567")["send"]
            assert client.wait_status(ping["server_id"])["status"] == "2"  # SMPP receipt
            (vip,) = client.json(send="HLRVIP", to=MTS)["send"]
            assert vip["price"] == "0.60"  # the HLR and the PING: 0.25 + 0.35
            final = client.wait_status(vip["server_id"])
            # The HLR said "not served"; the PING reached the phone, and the PING wins.
            assert (final["status"], final["error"], final["net"]) == ("2", "0", "MTS")
            (trusted,) = client.json(send="HLRVIP", to="79031234567")["send"]
            assert trusted["price"] == "0.25"
            final = client.wait_status(trusted["server_id"])
            assert (final["status"], final["error"], final["net"]) == ("-1", "602", "Beeline")
            assert client.balance() == Decimal("10.00") - Decimal("1.20")
            # An API-2 HLRVIP item gets the same PING leg.
            document = {"apikey": client.apikey, "send": [{"to": MTS, "text": "HLRVIP"}]}
            (item,) = http.post(server.url + "/api2.php", json=document).json()["send"]
            assert item["price"] == 0.60
            final = client.wait_status(item["server_id"])
            assert (final["status"], final["error"], final["net"]) == ("2", "0", "MTS")


def _wait_for(predicate: Callable[[], bool], why: Callable[[], str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, why()
        time.sleep(0.05)  # a poll interval, not a synchronisation


def test_api2_check_carries_the_result_fields(demo: Api) -> None:
    (item,) = demo.json(send="HLR", to=MTS)["send"]
    final = demo.wait_status(item["server_id"])
    answer = demo.client.post(
        demo.url + "/api2.php", json={"apikey": demo.apikey, "check": [item["server_id"]]}
    ).json()
    (checked,) = answer["check"]
    assert checked["status"] == 2
    assert {name: checked[name] for name in RESULT_FIELDS} == {
        name: final[name] for name in RESULT_FIELDS
    }
