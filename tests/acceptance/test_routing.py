"""Routing from the operator's CLI (pipeline issue, item 2): longest prefix wins, the first
enabled connector of a route takes the message and the next ones are the failover, numbers
without a route get 213 at send time, and test=1 always goes to the emulator."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import Account, Server, running

MTS = "79161234567"
TELE2 = "79087964781"


class Routed:
    def __init__(self, server: Server, account: Account, client: httpx.Client) -> None:
        self.server = server
        self.account = account
        self.client = client

    def send(self, to: str, **extra: str) -> dict[str, Any]:
        params = {"send": "routed", "to": to, "apikey": self.account.key, "format": "json"}
        return dict(
            self.client.get(self.server.url + "/api.php", params={**params, **extra}).json()
        )

    def status(self, server_id: str) -> str:
        body = self.client.get(
            self.server.url + "/api.php",
            params={"check": server_id, "apikey": self.account.key, "format": "v"},
        )
        return body.text

    def wait_status(self, server_id: str, wanted: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.status(server_id) != wanted:
            assert time.monotonic() < deadline, f"{server_id} never reached {wanted}"
            time.sleep(0.05)

    def handed(self) -> dict[str, int]:
        counts = {}
        for line in self.server.cli("connector", "list").splitlines():
            name, *_, handed, _last = line.split("\t")
            counts[name] = int(handed.removeprefix("handed="))
        return counts


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def routed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Routed]:
    settings = {
        "PILOTGATE_TARIFF_CACHE_SECONDS": "0",  # routing changes apply to the next send
        "PILOTGATE_EMULATOR_DELAY": "0.1",
        "PILOTGATE_POLL_INTERVAL": "0.05",
    }
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            settings["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = Server(tmp_path, "serve", settings=settings)
        stack.enter_context(running(server))
        account = server.create_account(balance="1000.00")
        with httpx.Client(timeout=10) as client:
            yield Routed(server, account, client)


def test_a_fresh_gateway_routes_everything_to_the_emulator(routed: Routed) -> None:
    assert routed.server.cli("route", "list").strip() == "*\tall\temulator"
    (item,) = routed.send(MTS)["send"]
    routed.wait_status(item["server_id"], "2")


def test_failover_follows_the_route_order_and_waits_when_all_are_off(routed: Routed) -> None:
    cli = routed.server.cli
    cli("connector", "add", "emulator", "primary")
    cli("connector", "add", "emulator", "backup")
    assert "route 7916 sms -> primary,backup" in cli(
        "route", "add", "7916", "sms", "primary,backup"
    )
    (first,) = routed.send(MTS)["send"]
    routed.wait_status(first["server_id"], "2")
    assert routed.handed()["primary"] == 1
    # A shorter prefix does not catch what the longer one routes.
    (tele2,) = routed.send(TELE2)["send"]
    routed.wait_status(tele2["server_id"], "2")
    assert routed.handed()["emulator"] == 1

    cli("connector", "disable", "primary")
    (second,) = routed.send(MTS)["send"]
    routed.wait_status(second["server_id"], "2")
    assert routed.handed() == {"backup": 1, "emulator": 1, "primary": 1}

    cli("connector", "disable", "backup")
    (third,) = routed.send(MTS)["send"]
    # Nothing can carry it: it waits in the queue (status 0) rather than failing…
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        assert routed.status(third["server_id"]) == "0"
        time.sleep(0.1)
    # …and goes as soon as a connector of its route is back.
    cli("connector", "enable", "backup")
    routed.wait_status(third["server_id"], "2")
    assert routed.handed()["backup"] == 2


def test_numbers_without_a_route_get_213_and_test_mode_ignores_routes(routed: Routed) -> None:
    cli = routed.server.cli
    cli("route", "add", "7908", "sms", "emulator")
    cli("route", "remove", "*", "all")
    before = routed.send(MTS, cost="1")
    assert before == {
        "error": {
            "code": "213",
            "description": "Unsupported operator",
            "description_ru": "Оператор не поддерживается",
        }
    }
    answer = routed.send(f"{TELE2},{MTS},79087964782")
    items = {item["phone"]: item for item in answer["send"]}
    assert items[MTS]["status"] == "-2" and items[MTS]["error"] == "213"
    assert items[TELE2]["status"] == "0"
    (tested,) = routed.send(MTS, test="1")["send"]
    routed.wait_status(tested["server_id"], "2")
    with pytest.raises(AssertionError):
        cli("route", "add", "7916", "sms", "no-such-connector")
