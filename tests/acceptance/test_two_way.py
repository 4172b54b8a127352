"""Two-way SMS (`from=2WAY`, contract §13.5) through the whole gateway: the operator puts
service numbers in the pool, an account sends `from=2WAY` through an SMPP link to the
simulator (`pilotgate smsc-sim --behaviour mo_reply`, which answers each message with an MO
from its phone to the number it came from), and the reply shows in that account's `inbound`
with the message's server_id and reaches its inbound callback. Another account's 2WAY to
another phone gets its own reply and never this one."""

from __future__ import annotations

from pathlib import Path

import httpx

from .support import Api, Server, running
from .test_crash import ReceiverThread
from .test_smpp import _add_link, _settings, _wait, simulator

POOL = "79000000001"


def test_a_reply_to_a_2way_message_reaches_the_account_that_sent_it(
    tmp_path: Path, database: str
) -> None:
    with simulator("mo_reply") as port, ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            _add_link(server, port)
            # Alice's destination is routed to the emulator first; her pool number belongs to
            # the SMPP link, so her 2WAY leaves through it (and its reply comes in there).
            server.cli("route", "add", "7916", "sms", "emulator,sim")
            server.cli("number", "pool", "add", POOL, "--connector", "sim")
            server.cli("number", "pool", "add", "79000000002", "--prefix", "44")
            # A number of a link on no route of these messages: never used.
            server.cli("connector", "add", "emulator", "other")
            server.cli("number", "pool", "add", "79000000000", "--connector", "other")
            assert server.cli("number", "pool", "list").split() == [
                *("79000000000", "*", "other", POOL, "*", "sim", "79000000002", "44", "*"),
            ]
            assert server.run_cli("number", "pool", "add", "7900", "--connector", "x").returncode
            first = server.create_account(balance="100.00")
            second = server.create_account(balance="100.00")
            server.cli("account", "set", str(first.id), "--inbound-url", receiver.url)
            alice = Api(http, server.url, first.key)
            bob = Api(http, server.url, second.key)

            (sent,) = alice.json(send="Reply YES", to="79161234561", **{"from": "2WAY"})["send"]
            (other,) = bob.json(send="Reply NO", to="79161234562", **{"from": "2WAY"})["send"]
            final = alice.wait_status(sent["server_id"])
            assert (final["status"], final["sender"], final["sender_orig"]) == ("2", POOL, "2WAY")

            def replied(api: Api) -> bool:
                return bool(api.json(inbound="all")["inbound"])

            _wait(lambda: replied(alice) and replied(bob), 15, "the replies")
            (item,) = alice.json(inbound="all")["inbound"]
            assert (item["phone"], item["num"], item["text"], item["server_id"]) == (
                "79161234561",
                POOL,
                "Reply",
                sent["server_id"],
            )
            (theirs,) = bob.json(inbound="all")["inbound"]
            assert (theirs["phone"], theirs["server_id"]) == ("79161234562", other["server_id"])
            assert receiver.receiver is not None
            _wait(
                lambda: any(c.params.get("server_id") == str(sent["server_id"])
                            for c in receiver.receiver.acknowledged),
                15,
                "the inbound callback",
            )  # fmt: skip


def test_a_reply_to_a_relayed_2way_message_comes_back_through_the_relay(
    tmp_path: Path, database: str
) -> None:
    """Ours relays a 2WAY message to an upstream PilotGate, which sends it from a number of
    its own pool through its SMPP link; the simulator's reply reaches the upstream, which
    links it to its message; ours fetches the upstream's inbound and links the reply to our
    message through the upstream id it handed over."""
    (tmp_path / "up").mkdir()
    (tmp_path / "ours").mkdir()
    with simulator("mo_reply") as port, httpx.Client(timeout=30) as http:
        upstream = Server(
            tmp_path / "up", "serve", settings=_settings(f"sqlite:///{tmp_path}/u.db")
        )
        ours = Server(tmp_path / "ours", "serve", settings=_settings(database))
        with running(upstream), running(ours):
            _add_link(upstream, port)
            upstream.cli("number", "pool", "add", POOL)
            relay_account = upstream.create_account(balance="100.00")
            ours.cli(
                "connector", "add", "relay", "up", "--url", upstream.url, "--key",
                relay_account.key, "--set", "poll_interval=0.1", "--set", "fetch_inbound=true",
            )  # fmt: skip
            ours.cli("route", "add", "*", "sms", "up")
            # Our pool stands for the upstream's: a number of the relay connector.
            ours.cli("number", "pool", "add", "79000000009", "--connector", "up")
            client = Api(http, ours.url, ours.create_account(balance="100.00").key)

            (sent,) = client.json(send="Reply YES", to="79161234561", **{"from": "2WAY"})["send"]
            assert client.wait_status(sent["server_id"], timeout=20)["status"] == "2"
            _wait(lambda: bool(client.json(inbound="all")["inbound"]), 20, "the reply")
            (item,) = client.json(inbound="all")["inbound"]
            # The upstream's number it was sent from, our message's server_id.
            assert (item["phone"], item["num"], item["text"], item["server_id"]) == (
                "79161234561",
                POOL,
                "Reply",
                sent["server_id"],
            )
            assert Api(http, upstream.url, relay_account.key).json(inbound="new")["inbound"] == []
