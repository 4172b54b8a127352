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


NO_VIBER = "79087964789"  # the upstream emulator finds no Viber on numbers ending in 9
MTS = "79161234567"


def test_upstream_callbacks_carry_every_channel_and_vibersms_falls_back(tmp_path: Path) -> None:
    """Statuses come back by the upstream's callbacks alone (ours polls once an hour): a
    Viber message, a VIBERSMS without Viber that we then send as an SMS through our own
    emulator, an HLR check with its result fields. A callback with a wrong token changes
    nothing."""
    (tmp_path / "up").mkdir()
    (tmp_path / "ours").mkdir()
    upstream = Server(
        tmp_path / "up", "demo", settings={"PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8"}
    )
    ours = Server(tmp_path / "ours", "serve", settings={"PILOTGATE_POLL_INTERVAL": "0.05"})
    with running(upstream), running(ours), httpx.Client(timeout=30) as http:
        ours.cli(
            "connector", "add", "relay", "up", "--url", upstream.url, "--key", DEMO_KEY,
            "--callback-url", ours.url, "--set", "poll_interval=3600",
        )  # fmt: skip
        ours.cli("route", "add", "*", "viber", "up")
        ours.cli("route", "add", "*", "hlr", "up")
        account = ours.create_account(balance="100.00")
        ours.cli("account", "set", str(account.id), "--default-sender", "INFORM")
        client = Api(http, ours.url, account.key)
        _wait(lambda: "bound=True" in _link_line(ours), 15, "the link to bind")

        viber = client.json(send="Viber hi", to=TELE2, **{"from": "VIBER"})["send"][0]
        hybrid = client.json(send="Code 42", to=NO_VIBER, **{"from": "VIBERSMS"})["send"][0]
        check = client.json(send="HLR", to=MTS)["send"][0]
        final = client.wait_status(viber["server_id"], timeout=20)
        assert (final["status"], final["price"]) == ("2", "1.90")
        final = client.wait_status(hybrid["server_id"], timeout=20)
        assert (final["status"], final["sender"], final["sender_orig"]) == (
            "2",
            "INFORM",
            "VIBERSMS",
        )
        assert final["price"] == "3.95"  # the SMS, sent by our emulator, instead of Viber
        final = client.wait_status(check["server_id"], timeout=20)
        assert (final["status"], final["mcc"], final["net"]) == ("2", "250", "MTS")
        assert client.balance() == Decimal("100.00") - Decimal("1.90") - TELE2_PRICE - Decimal(
            "0.25"
        )
        # The upstream was asked for Viber (never for its own fallback) and for an HLR.
        asked = Api(http, upstream.url, DEMO_KEY).json(check="all", fields="all")["check"]
        assert sorted((i["phone"], i["sender"]) for i in asked) == sorted(
            [(NO_VIBER, "VIBER"), (TELE2, "VIBER"), (MTS, "HLR")]
        )
        assert "up\trelay" in ours.cli("connector", "list")

        # Reports that are not the upstream's: refused, and nothing changes.
        (sent,) = client.json(send="Viber again", to=TELE2, **{"from": "VIBER"})["send"]
        sid = sent["server_id"]
        assert client.wait_status(sid, timeout=20)["status"] == "2"
        forged = http.post(f"{ours.url}/relay/up/not-the-token-at-all", data={"server_id": "1"})
        assert (forged.status_code, forged.text) == (403, "Forbidden")
        assert http.get(f"{ours.url}/relay/nobody/whatever-token-123").status_code == 403
        assert http.get(f"{ours.url}/relay/up").status_code == 404
        assert client.json(check=sid)["check"][0]["status"] == "2"
    assert "Traceback" not in ours.log, ours.log


def test_messages_in_flight_are_polled_again_after_a_restart(tmp_path: Path) -> None:
    """Our gateway stops while the upstream still holds its messages: after the restart the
    link asks about the same upstream ids (they are in the database, not in memory)."""
    (tmp_path / "up").mkdir()
    (tmp_path / "ours").mkdir()
    upstream = Server(tmp_path / "up", "demo", settings={"PILOTGATE_EMULATOR_DELAY": "4"})
    settings = {"PILOTGATE_POLL_INTERVAL": "0.05"}
    port = _free_port()
    with running(upstream), httpx.Client(timeout=30) as http:
        ours = Server(tmp_path / "ours", "serve", settings=settings, port=port)
        with running(ours):
            ours.cli(
                "connector", "add", "relay", "up", "--url", upstream.url, "--key", DEMO_KEY,
                "--set", "poll_interval=0.2",
            )  # fmt: skip
            ours.cli("route", "add", "*", "sms", "up")
            client = Api(http, ours.url, ours.create_account(balance="10.00").key)
            sid = client.json(send="Across a restart", to=TELE2)["send"][0]["server_id"]
            assert client.wait_status(sid, final=("1",))["status"] == "1"
        again = Server(tmp_path / "ours", "serve", settings=settings, port=port)
        with running(again):
            client = Api(http, again.url, client.apikey)
            assert client.wait_status(sid, timeout=20)["status"] == "2"
