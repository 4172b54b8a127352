"""check (contract §7): one id, a list, recent, packet, all; limit/offset; every format."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .support import CATALOGUE, MTS, TELE2, UNDELIVERABLE, XML_DECL, Api


def _send(demo: Api, to: str, text: str = "check me") -> tuple[str, list[str]]:
    answer = demo.json(send=text, to=to)
    return answer["server_packet_id"], [item["server_id"] for item in answer["send"]]


def test_check_one_id_in_every_format(demo: Api) -> None:
    _, (sid,) = _send(demo, TELE2)
    assert demo.wait_status(sid)["status"] == "2"
    assert demo.json(check=sid) == {
        "check": [{"server_id": sid, "phone": TELE2, "price": "3.95", "status": "2"}]
    }
    body = demo.xml(check=sid)
    assert body.startswith(XML_DECL)
    root = ET.fromstring(body.removeprefix(XML_DECL))
    assert root.tag == "check"
    assert [(sms.tag, sms.attrib) for sms in root] == [
        ("sms", {"server_id": sid, "phone": TELE2, "price": "3.95", "status": "2"})
    ]
    assert demo.text(check=sid) == f"{sid},{TELE2},3.95,2"
    assert demo.text(check=sid, format="text") == f"{sid},{TELE2},3.95,2"
    assert demo.v(check=sid) == "2"


def test_check_a_list_of_ids_keeps_the_order_and_marks_unknown_ones(demo: Api) -> None:
    _, (good, bad) = _send(demo, f"{TELE2},{UNDELIVERABLE}")
    demo.wait_status(good)
    demo.wait_status(bad)
    unknown = "999999999"
    ids = f"{bad}, {unknown},{good}"
    items = demo.json(check=ids)["check"]
    assert [item["server_id"] for item in items] == [bad, unknown, good]
    assert items[0]["status"] == "-1"
    assert items[0]["error"] == "601"
    assert items[1]["status"] == "-2"
    assert items[1]["price"] == "0.00"
    assert (items[1]["error"], items[1]["error_en"], items[1]["error_ru"]) == (
        "302",
        *CATALOGUE[302],
    )
    assert items[2] == {"server_id": good, "phone": TELE2, "price": "3.95", "status": "2"}
    lines = demo.text(check=ids).split("\n")
    assert lines == [
        f"{bad},{UNDELIVERABLE},3.95,-1",
        f"{unknown},,0.00,-2",
        f"{good},{TELE2},3.95,2",
    ]
    assert demo.v(check=ids) == "-1\n-2\n2"
    root = ET.fromstring(demo.xml(check=ids).removeprefix(XML_DECL))
    assert [sms.get("status") for sms in root] == ["-1", "-2", "2"]
    assert root[1].get("error") == "302"


def test_check_fields(demo: Api) -> None:
    _, (sid,) = _send(demo, MTS, "fields of check")
    demo.wait_status(sid)
    item = demo.json(check=sid, fields="status,operator,message,error")["check"][0]
    assert item == {"status": "2", "operator": "MTS", "message": "fields of check", "error": "0"}
    root = ET.fromstring(demo.xml(check=sid, fields="phone,parts").removeprefix(XML_DECL))
    assert root[0].attrib == {"phone": MTS, "parts": "1"}


def test_check_all_is_newest_first_and_pages(demo: Api) -> None:
    ids = [_send(demo, TELE2, f"page {n}")[1][0] for n in range(4)]
    newest = [item["server_id"] for item in demo.json(check="all", limit="4")["check"]]
    assert newest == ids[::-1]
    page = demo.json(check="all", limit="2", offset="1")["check"]
    assert [item["server_id"] for item in page] == [ids[2], ids[1]]
    lines = demo.text(check="all", limit="3").split("\n")
    assert [line.split(",")[0] for line in lines] == ids[:0:-1]
    assert len(demo.v(check="all", limit="2").split("\n")) == 2
    root = ET.fromstring(demo.xml(check="all", limit="2", offset="2").removeprefix(XML_DECL))
    assert [sms.get("server_id") for sms in root] == [ids[1], ids[0]]
    # limit is capped at 1000, never an error
    assert len(demo.json(check="all", limit="5000")["check"]) <= 1000


def test_check_recent(demo: Api) -> None:
    _, (sid,) = _send(demo, TELE2, "recent")
    for word in ("recent", "resent"):
        items = demo.json(check=word, limit="5")["check"]
        assert items[0]["server_id"] == sid
        line = demo.text(check=word, limit="1")  # the status may move on meanwhile
        assert line.rsplit(",", 1)[0] == f"{sid},{TELE2},3.95"
    assert len(demo.json(check="recent", limit="3", offset="1")["check"]) == 3


def test_check_packet(demo: Api) -> None:
    packet, ids = _send(demo, f"{TELE2},{MTS},{UNDELIVERABLE}", "packet")
    assert packet == ids[0]
    items = demo.json(check="packet", id=packet)["check"]
    assert sorted(item["server_id"] for item in items) == sorted(ids)
    assert {item["phone"] for item in items} == {TELE2, MTS, UNDELIVERABLE}
    assert len(demo.json(check="packet", id=packet, limit="2")["check"]) == 2
    assert len(demo.json(check="packet", id=packet, limit="2", offset="2")["check"]) == 1
    assert len(demo.text(check="packet", id=packet).split("\n")) == 3
    root = ET.fromstring(demo.xml(check="packet", id=packet).removeprefix(XML_DECL))
    assert root.tag == "check"
    assert sorted(sms.get("server_id", "") for sms in root) == sorted(ids)
