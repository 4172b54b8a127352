"""The HTTP relay (issue 6, item 2): our gateway forwards messages to another PilotGate
process (the upstream, `pilotgate demo` with its emulator) through its API-1 with the
upstream's key, and brings the statuses back by polling `check`. The upstream is stopped
mid-run: ours marks the link unbound, messages wait, and drain when it comes back."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx

from .support import DEMO_KEY, TELE2, TELE2_PRICE, UNDELIVERABLE, Api, Server, running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # a poll interval, not a synchronisation


def _link_line(server: Server) -> str:
    (line,) = [x for x in server.cli("connector", "list").splitlines() if x.startswith("up\t")]
    return line


def test_relay_forwards_fails_over_and_drains(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / "up").mkdir()
    (tmp_path / "ours").mkdir()
    upstream = Server(tmp_path / "up", "demo", port=port)
    ours = Server(
        tmp_path / "ours",
        "serve",
        settings={"PILOTGATE_POLL_INTERVAL": "0.05", "PILOTGATE_LINK_LEASE_SECONDS": "3"},
    )
    with running(ours), httpx.Client(timeout=30) as http:
        upstream.start()
        try:
            up_demo = Api(http, upstream.url, DEMO_KEY)
            up_start = up_demo.balance()
            ours.cli(
                "connector", "add", "relay", "up", "--url", upstream.url, "--key", DEMO_KEY,
                "--set", "poll_interval=0.2", "--set", "timeout=2",
            )  # fmt: skip
            ours.cli("route", "add", "*", "sms", "up")
            account = ours.create_account(balance="100.00")
            client = Api(http, ours.url, account.key)

            ok = client.json(send="Hello via relay", to=TELE2)["send"][0]["server_id"]
            bad = client.json(send="Hello via relay", to=UNDELIVERABLE)["send"][0]["server_id"]
            delivered, undelivered = client.wait_status(ok), client.wait_status(bad)
            assert (delivered["status"], delivered["error"]) == ("2", "0")
            assert (undelivered["status"], undelivered["error"]) == ("-1", "601")
            # Both charged here (a -1 stays charged) and at the upstream, with our text.
            assert client.balance() == Decimal("100.00") - 2 * TELE2_PRICE
            assert up_demo.balance() == up_start - 2 * TELE2_PRICE
            upstream_items = up_demo.json(check="all", fields="all")["check"]
            assert {i["phone"] for i in upstream_items} == {TELE2, UNDELIVERABLE}
            assert {i["message"] for i in upstream_items} == {"Hello via relay"}
            assert "bound=True" in _link_line(ours)
        finally:
            assert upstream.stop() == 0
            assert "Traceback" not in upstream.log, upstream.log

        # The upstream is down: the link goes unbound and a new message waits in our queue.
        _wait(lambda: "bound=False" in _link_line(ours), 15, "the link to go unbound")
        waiting = client.json(send="Sent while down", to=TELE2)["send"][0]["server_id"]
        time.sleep(1.0)
        assert client.json(check=waiting)["check"][0]["status"] == "0"

        # It comes back on the same address: the link binds again and the queue drains.
        back = Server(tmp_path / "up", "demo", port=port)
        with running(back):
            assert client.wait_status(waiting, timeout=20)["status"] == "2"
            assert Api(http, back.url, DEMO_KEY).balance() == up_start - 3 * TELE2_PRICE
        assert client.balance() == Decimal("100.00") - 3 * TELE2_PRICE
