"""send (contract §5): the four answer formats, cost=1, the demo line, per-recipient outcomes,
the whole-request rule, duplicates, fields and scheduling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from .support import (
    CATALOGUE,
    DEMO_KEY,
    MTS,
    MTS_PRICE,
    TELE2,
    TELE2_PRICE,
    TIME_RE,
    UNDELIVERABLE,
    XML_DECL,
    Api,
    Server,
    error_json,
    error_text,
    money,
)

ALL_FIELDS = [
    "server_id",
    "phone",
    "price",
    "status",
    "sender",
    "sender_orig",
    "created",
    "modified",
    "parts",
    "country",
    "operator",
    "error",
    "error_en",
    "error_ru",
    "message",
    "send_datetime",
]


def test_the_curl_lines_the_demo_prints_work(gate: Server, http: httpx.Client) -> None:
    banner = gate.printed(lambda lines: sum("curl '" in line for line in lines) == 2)
    assert banner[0] == f"PilotGate listening on {gate.url}"
    assert any(DEMO_KEY in line for line in banner)
    curls = [m.group(1) for line in banner if (m := re.search(r"curl '([^']+)'", line))]
    assert len(curls) == 2
    sent = http.get(curls[0])
    assert sent.status_code == 200
    server_id = sent.json()["send"][0]["server_id"]
    checked = http.get(curls[1].replace("<server_id>", server_id))
    assert checked.json()["check"][0]["server_id"] == server_id


def test_send_json_single_recipient(demo: Api) -> None:
    before = demo.balance()
    answer = demo.json(send="Hello", to=TELE2)
    (item,) = answer["send"]
    assert list(item) == ["server_id", "phone", "price", "status"]
    assert item["server_id"].isdigit()
    assert item == {"server_id": item["server_id"], "phone": TELE2, "price": "3.95", "status": "0"}
    assert answer == {
        "send": [item],
        "balance": answer["balance"],
        "cost": "3.95",
        "server_packet_id": item["server_id"],
    }
    assert money(answer["balance"]) == before - TELE2_PRICE == demo.balance()


def test_send_json_multiple_recipients(demo: Api) -> None:
    before = demo.balance()
    answer = demo.json(send="Hello both", to=f"{TELE2}, {MTS}")
    first, second = answer["send"]
    assert (first["phone"], first["price"]) == (TELE2, "3.95")
    assert (second["phone"], second["price"]) == (MTS, "4.35")
    assert first["server_id"] != second["server_id"]
    assert answer["server_packet_id"] == first["server_id"]
    assert answer["cost"] == "8.30"
    assert money(answer["balance"]) == before - TELE2_PRICE - MTS_PRICE == demo.balance()


def test_send_xml(demo: Api) -> None:
    body = demo.xml(send="Hello xml", to=f"{TELE2},{MTS}")
    match = re.fullmatch(
        r'<\?xml version="1.0" encoding="utf-8"\?>\n<send balance="([\d.]+)" cost="8.30" '
        r'server_packet_id="(\d+)">\n<sms server_id="(\d+)" phone="79087964781" price="3.95" '
        r'status="0"/>\n<sms server_id="(\d+)" phone="79161234567" price="4.35" status="0"/>\n'
        r"</send>",
        body,
    )
    assert match, body
    assert match.group(2) == match.group(3) != match.group(4)
    assert money(match.group(1)) == demo.balance()


def test_send_text(demo: Api) -> None:
    before = demo.balance()
    body = demo.text(send="Hello text", to=f"{TELE2},{MTS}")
    lines = body.split("\n")
    balance = before - TELE2_PRICE - MTS_PRICE
    assert lines[0] == f"SUCCESS=SMS SENT 8.30/{balance}"
    assert re.fullmatch(r"\d+,79087964781,3\.95,0", lines[1]), body
    assert re.fullmatch(r"\d+,79161234567,4\.35,0", lines[2]), body
    assert len(lines) == 3 and not body.endswith("\n")


def test_send_v_is_the_packet_id(demo: Api) -> None:
    packet = demo.v(send="Hello v", to=f"{TELE2},{MTS}")
    assert packet.isdigit()
    items = demo.json(check="packet", id=packet)["check"]
    assert sorted(i["phone"] for i in items) == sorted([TELE2, MTS])
    assert min(int(i["server_id"]) for i in items) == int(packet)


def test_cost_only_in_every_format_sends_and_charges_nothing(demo: Api) -> None:
    before, newest = demo.balance(), demo.newest_id()
    params = {"send": "How much?", "to": f"{TELE2},{MTS}", "cost": "1"}
    assert demo.json(**params) == {"cost": "8.30"}
    assert demo.xml(**params) == f"{XML_DECL}<cost>8.30</cost>"
    assert demo.text(**params) == "8.30"
    assert demo.v(**params) == "8.30"
    two_parts = "x" * 161  # GSM-7: 160 in one part, 153 per part when longer
    assert demo.text(send=two_parts, to=TELE2, cost="1") == "7.90"
    assert demo.balance() == before
    assert demo.newest_id() == newest


def test_demo_delivers_and_a_number_ending_in_0_is_not_delivered(demo: Api) -> None:
    answer = demo.json(send="Will it arrive?", to=f"{TELE2},{UNDELIVERABLE}")
    ok, bad = (item["server_id"] for item in answer["send"])
    delivered = demo.wait_status(ok)
    assert delivered["status"] == "2"
    assert delivered["error"] == "0"
    failed = demo.wait_status(bad)
    assert failed["status"] == "-1"
    assert (failed["error"], failed["error_en"], failed["error_ru"]) == (
        "601",
        "Undeliverable",
        "Невозможно доставить",
    )
    assert failed["price"] == "3.95"  # not delivered stays charged
    # without fields=all the error trio still comes with a failed message
    item = demo.json(check=bad)["check"][0]
    assert item["error"] == "601"
    assert item["error_en"] == "Undeliverable"


def test_fields_all_on_send(demo: Api) -> None:
    (item,) = demo.json(send="All the fields", to=TELE2, fields="all")["send"]
    assert list(item) == ALL_FIELDS
    assert all(isinstance(value, str) for value in item.values())
    assert item["sender"] == "INFORM"
    assert item["parts"] == "1"
    assert (item["country"], item["operator"]) == ("RU", "Tele2")
    assert item["message"] == "All the fields"
    assert item["error"] == "0"
    assert item["send_datetime"] == ""
    assert TIME_RE.match(item["created"])
    assert item["modified"] == item["created"]
    stored = demo.json(check=item["server_id"], fields="created,sender,parts,message")
    assert stored["check"][0] == {
        "created": item["created"],
        "sender": "INFORM",
        "parts": "1",
        "message": "All the fields",
    }


def test_fields_subset_and_order(demo: Api) -> None:
    (item,) = demo.json(send="Some fields", to=MTS, fields="phone,message,operator")["send"]
    assert item == {"phone": MTS, "message": "Some fields", "operator": "MTS"}


def test_parts_and_price_of_long_texts(demo: Api) -> None:
    gsm = demo.json(send="a" * 306, to=TELE2, fields="parts,price")["send"][0]
    assert gsm == {"parts": "2", "price": "7.90"}
    gsm3 = demo.json(send="a" * 307, to=TELE2, fields="parts,price")["send"][0]
    assert gsm3 == {"parts": "3", "price": "11.85"}
    ucs2 = demo.json(send="я" * 70, to=MTS, fields="parts,price")["send"][0]
    assert ucs2 == {"parts": "1", "price": "4.35"}
    ucs2 = demo.json(send="я" * 71, to=MTS, fields="parts,price")["send"][0]
    assert ucs2 == {"parts": "2", "price": "8.70"}


def test_more_errors_than_accepted_fails_the_whole_request(demo: Api) -> None:
    before, newest = demo.balance(), demo.newest_id()
    to = f"7908796478,abc,{TELE2}"  # 215 first, then 111, one good one
    assert demo.json(send="Whole request", to=to) == error_json(215)
    assert demo.text(send="Whole request", to=to) == error_text(215)
    assert demo.json(send="Whole request", to=f"abc,7908796478,{TELE2}") == error_json(111)
    assert demo.json(send="Whole request", to=f"12025550143,abc,{TELE2}") == error_json(213)
    assert demo.balance() == before
    assert demo.newest_id() == newest


def test_as_many_errors_as_accepted_lists_the_failed_items(demo: Api) -> None:
    before = demo.balance()
    answer = demo.json(send="Half good", to=f"abc,{TELE2}")
    failed, good = answer["send"]
    assert failed["status"] == "-2"
    assert failed["price"] == "0.00"
    assert (failed["error"], failed["error_en"], failed["error_ru"]) == ("111", *CATALOGUE[111])
    assert (good["phone"], good["status"], good["price"]) == (TELE2, "0", "3.95")
    assert "error" not in good
    assert answer["cost"] == "3.95"
    assert demo.balance() == before - TELE2_PRICE

    body = demo.text(send="Half good", to=f"{MTS},12025550143")
    lines = body.split("\n")
    assert lines[0] == f"SUCCESS=SMS SENT 4.35/{before - TELE2_PRICE - MTS_PRICE}"
    assert re.fullmatch(rf"\d+,{MTS},4\.35,0", lines[1])
    assert re.fullmatch(r"\d+,12025550143,0\.00,-2", lines[2])  # always four columns
    us_id = lines[2].split(",")[0]
    item = demo.json(check=us_id)["check"][0]
    assert (item["status"], item["price"], item["error"]) == ("-2", "0.00", "213")

    xml = demo.xml(send="Half good", to=f"{TELE2},7908796478")
    assert re.search(
        r'<sms server_id="\d+" phone="7908796478" price="0.00" status="-2" '
        r'error="215" error_en="Invalid phone length" error_ru="[^"]+"/>',
        xml,
    ), xml


def test_duplicates_are_dropped(demo: Api) -> None:
    before = demo.balance()
    to = f"{TELE2}, 89087964781,+7 (908) 796-47-81,{MTS},8 (916) 123-45-67"
    answer = demo.json(send="Once each", to=to)
    assert [item["phone"] for item in answer["send"]] == [TELE2, MTS]
    assert answer["cost"] == "8.30"
    assert demo.balance() == before - TELE2_PRICE - MTS_PRICE
    assert len(demo.json(check="packet", id=answer["server_packet_id"])["check"]) == 2


def test_send_datetime_in_the_future_schedules(demo: Api) -> None:
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    (item,) = demo.json(
        send="Later", to=TELE2, send_datetime=stamp, fields="server_id,status,send_datetime"
    )["send"]
    assert (item["status"], item["send_datetime"]) == ("3", stamp)
    checked = demo.json(check=item["server_id"], fields="status,send_datetime")["check"][0]
    assert checked == {"status": "3", "send_datetime": stamp}
    assert demo.text(send="Later", to=TELE2, send_datetime=stamp).split("\n")[1].endswith(",3")


def test_send_datetime_as_unix_timestamp(demo: Api) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    (item,) = demo.json(
        send="Later",
        to=MTS,
        send_datetime=str(int(when.timestamp())),
        fields="status,send_datetime",
    )["send"]
    assert item == {"status": "3", "send_datetime": when.strftime("%Y-%m-%d %H:%M:%S")}


def test_send_datetime_a_few_seconds_ago_sends_now(demo: Api) -> None:
    stamp = (datetime.now(UTC) - timedelta(seconds=20)).strftime("%Y-%m-%d %H:%M:%S")
    (item,) = demo.json(
        send="Now", to=TELE2, send_datetime=stamp, fields="server_id,status,send_datetime"
    )["send"]
    assert (item["status"], item["send_datetime"]) == ("0", "")
    assert demo.wait_status(item["server_id"])["status"] == "2"


def test_valid_ttl_and_callback_are_accepted(demo: Api) -> None:
    for ttl in ("1", "1440"):
        (item,) = demo.json(send="ttl", to=TELE2, ttl=ttl)["send"]
        assert item["status"] == "0"
    for method in ("get", "post"):
        (item,) = demo.json(
            send="cb",
            to=TELE2,
            callback="https://example.invalid/status.php",
            callback_method=method,
        )["send"]
        assert item["status"] == "0"


def test_login_and_password_instead_of_apikey(api: Api, demo: Api) -> None:
    balance = demo.balance()
    answer = api.json(
        login="demo@pilotgate.local", password="demo-password", send="By login", to=TELE2
    )
    assert answer["send"][0]["phone"] == TELE2
    assert money(answer["balance"]) == balance - TELE2_PRICE
    assert Decimal(answer["cost"]) == TELE2_PRICE
