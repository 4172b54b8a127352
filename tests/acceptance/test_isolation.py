"""One account never sees another's messages or inbound SMS (contract §7): another account's id
is answered exactly like an id that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .support import MTS, TELE2, Account, Api, Server, assert_error

NONEXISTENT = "999999998"


@dataclass(frozen=True)
class Pair:
    alice: Api
    bob: Api
    alice_ids: list[str]
    alice_packet: str
    bob_id: str


@pytest.fixture(scope="module")
def pair(gate: Server, new_account: Callable[..., Account], api: Api) -> Pair:
    alice_account, bob_account = new_account(balance="100.00"), new_account(balance="100.00")
    alice, bob = api.as_key(alice_account.key), api.as_key(bob_account.key)
    sent = alice.json(send="Alice's secret", to=f"{TELE2},{MTS}")
    gate.inbound(alice_account, phone=TELE2, num="79021121075", text="for Alice only")
    bob_id = bob.json(send="Bob's", to=TELE2)["send"][0]["server_id"]
    return Pair(
        alice, bob, [item["server_id"] for item in sent["send"]], sent["server_packet_id"], bob_id
    )


def test_check_by_id_answers_302_like_a_nonexistent_id(pair: Pair) -> None:
    for server_id in pair.alice_ids:
        assert_error(pair.bob, {"check": server_id}, 302)
        for fmt in ("json", "xml", "text", "v"):
            theirs = pair.bob.call({"check": server_id, "format": fmt, "fields": "all"})
            missing = pair.bob.call({"check": NONEXISTENT, "format": fmt, "fields": "all"})
            assert theirs.content == missing.content
    # Alice herself does see them
    assert [i["server_id"] for i in pair.alice.json(check=",".join(pair.alice_ids))["check"]] == (
        pair.alice_ids
    )


def test_check_list_marks_foreign_ids_as_not_found(pair: Pair) -> None:
    ids = [pair.bob_id, *pair.alice_ids]
    items = pair.bob.json(check=",".join(ids), fields="all")["check"]
    assert items[0]["server_id"] == pair.bob_id
    assert items[0]["message"] == "Bob's"
    for item, server_id in zip(items[1:], pair.alice_ids, strict=True):
        assert item == pair.bob.json(check=f"{pair.bob_id},{NONEXISTENT}")["check"][1] | {
            "server_id": server_id
        }
        assert "Alice" not in str(item)
        assert (item["status"], item["error"], item["phone"]) == ("-2", "302", "")


def test_listings_show_only_the_callers_messages(pair: Pair) -> None:
    for listing in ("all", "recent"):
        items = pair.bob.json(check=listing, fields="all")["check"]
        assert [item["server_id"] for item in items] == [pair.bob_id]
        assert "Alice" not in pair.bob.text(check=listing)
        assert len(pair.alice.json(check=listing)["check"]) == 2
    assert_error(pair.bob, {"check": "packet", "id": pair.alice_packet}, 304)
    assert len(pair.alice.json(check="packet", id=pair.alice_packet)["check"]) == 2


def test_inbound_of_another_account_is_invisible(pair: Pair) -> None:
    for value in ("all", "new", "2000-01-01 00:00:00", "0"):
        assert pair.bob.json(inbound=value) == {"inbound": []}
        assert "Alice" not in pair.bob.xml(inbound=value)
    (item,) = pair.alice.json(inbound="all")["inbound"]
    assert item["text"] == "for Alice only"


def test_the_demo_account_sees_none_of_them(pair: Pair, demo: Api) -> None:
    assert_error(demo, {"check": pair.bob_id}, 302)
    shown = {item["server_id"] for item in demo.json(check="all")["check"]}
    assert not shown & {pair.bob_id, *pair.alice_ids}
