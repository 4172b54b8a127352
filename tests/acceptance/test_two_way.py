"""Two-way SMS (`from=2WAY`, COMPAT §13.5) through the whole gateway: the operator puts
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
from .test_smpp import _add_link, _settings, _wait, database, simulator

__all__ = ["database"]  # the fixture, parametrised over SQLite and PostgreSQL

POOL = "79000000001"


def test_a_reply_to_a_2way_message_reaches_the_account_that_sent_it(
    tmp_path: Path, database: str
) -> None:
    with simulator("mo_reply") as port, ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            server.cli("number", "pool", "add", POOL)
            server.cli("number", "pool", "add", "79000000002", "--prefix", "44")
            assert server.cli("number", "pool", "list").split() == [POOL, "*", "79000000002", "44"]
            _add_link(server, port)
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
                            for c in receiver.receiver.acknowledged),  # type: ignore[union-attr]
                15,
                "the inbound callback",
            )  # fmt: skip
