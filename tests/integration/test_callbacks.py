"""Status and inbound callbacks from a real `pilotgate serve` to a real HTTP receiver on
loopback (contract §8): shapes, auth, signatures, order, retries, and receivers that misbehave.

The gateway runs with 127.0.0.0/8 allowed for callbacks, the emulator answering after 0.1 s,
retries from 0.3 s and a 4 s attempt timeout, so every retry path is exercised in seconds.
(With 1 s, a loaded machine let attempts time out that the receiver had acknowledged: a
duplicate, which at-least-once allows but these tests count as wrong.)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pilotgate.testing.receiver import CallbackReceiver, ReceivedCallback
from tests.acceptance.support import Account, Server, running

TELE2 = "79087964781"
FAILS = "79087964780"  # the emulator does not deliver numbers ending in 0


class Gate:
    def __init__(self, server: Server, account: Account, secret: str) -> None:
        self.server = server
        self.account = account
        self.secret = secret

    async def send(self, **params: str) -> list[dict[str, str]]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(
                self.server.url + "/api.php",
                params={"apikey": self.account.key, "format": "json", **params},
            )
        body = answer.json()
        assert "send" in body, body
        return list(body["send"])

    def wait_log(self, pattern: str, count: int, timeout: float = 10) -> None:
        """Poll the server log (observable state, with a deadline) for `count` matches."""
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.server.log)) < count:
            assert time.monotonic() < deadline, (
                f"{pattern!r} x{count} not in log:\n{self.server.log}"
            )
            time.sleep(0.05)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    server = Server(
        tmp_path_factory.mktemp("callbacks"),
        "serve",
        settings={
            "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
            "PILOTGATE_EMULATOR_DELAY": "0.1",
            "PILOTGATE_CALLBACK_RETRY_FIRST": "0.3",
            "PILOTGATE_CALLBACK_RETRY_CAP": "1",
            "PILOTGATE_CALLBACK_TIMEOUT": "4",
            "PILOTGATE_POLL_INTERVAL": "0.05",
        },
    )
    with running(server):
        account = server.create_account(balance="1000.00")
        secret = server.cli("account", "secret", str(account.id)).split()[-1]
        yield Gate(server, account, secret)


def statuses(calls: list[ReceivedCallback], server_id: str) -> list[str]:
    return [c.params["status"] for c in calls if c.params.get("server_id") == server_id]


def distinct(values: list[str]) -> list[str]:
    """Repeats dropped: at-least-once may deliver a callback twice."""
    return [v for n, v in enumerate(values) if n == 0 or values[n - 1] != v]


async def test_get_with_fields_basic_auth_kept_params_and_signature(gate: Gate) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        url = rx.url_for("/cb", user="shop", password="p w:1", query="fields=message,operator&x=7")
        (item,) = await gate.send(send="Привет", to=TELE2, callback=url)
        calls = await rx.wait_for(count=2, timeout=10)
    assert statuses(calls, item["server_id"]) == ["1", "2"]
    for call in calls:
        assert call.method == "GET"
        assert call.path == "/cb"
        assert call.basic_auth == ("shop", "p w:1")
        assert call.signature_valid is True
        assert call.params == {
            "x": "7",
            "server_id": item["server_id"],
            "phone": TELE2,
            "status": call.params["status"],
            "error": "0",
            "message": "Привет",
            "operator": "Tele2",
        }
        assert "shop" not in call.query  # credentials travel as Basic auth only


async def test_post_of_an_undelivered_message_carries_the_error_texts(gate: Gate) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        (item,) = await gate.send(
            send="x", to=FAILS, callback=rx.url_for("/post"), callback_method="post"
        )
        calls = await rx.wait_for(count=2, timeout=10)
    assert statuses(calls, item["server_id"]) == ["1", "-1"]
    final = calls[1]
    assert final.method == "POST"
    assert final.headers["content-type"] == "application/x-www-form-urlencoded"
    assert final.signature_valid is True
    assert (final.params["error"], final.params["error_en"], final.params["error_ru"]) == (
        "601",
        "Undeliverable",
        "Невозможно доставить",
    )


async def test_a_receiver_down_for_a_while_gets_everything_in_order_once(gate: Gate) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        rx.behave("down")
        sent = []
        for n in range(5):
            (item,) = await gate.send(send=f"m{n}", to=TELE2, callback=rx.url_for("/down"))
            sent.append(item["server_id"])
        # Wait until the gateway has really failed against the closed port, then come back.
        alternatives = "|".join(sent)
        gate.wait_log(rf"callback \d+ for status ({alternatives}) failed", 5)
        rx.behave("ok")
        calls = await rx.wait_for(count=10, timeout=15)
    for server_id in sent:
        assert statuses(calls, server_id) == ["1", "2"]
    pairs = [(c.params["server_id"], c.params["status"]) for c in calls]
    assert len(pairs) == len(set(pairs))


async def test_a_receiver_answering_500_is_retried_until_it_acknowledges(gate: Gate) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        rx.fail_next(3)
        (item,) = await gate.send(send="x", to=TELE2, callback=rx.url_for("/flaky"))
        calls = await rx.wait_for(count=2, timeout=15)
        answered = [c.answered for c in rx.requests]
    assert answered[:3] == [500, 500, 500]
    assert statuses(calls, item["server_id"]) == ["1", "2"]
    # The failed tries were all the first status: the second waited for it.
    assert {c.params["status"] for c in rx.requests[:3]} == {"1"}


async def test_a_hanging_receiver_is_cut_off_and_blocks_no_other(gate: Gate) -> None:
    async with (
        CallbackReceiver(secret=gate.secret) as slow,
        CallbackReceiver(secret=gate.secret) as fast,
    ):
        slow.behave("hang")
        (stuck,) = await gate.send(send="x", to=TELE2, callback=slow.url_for("/slow"))
        await slow.wait_for_requests(count=1, timeout=10)
        fast_ids = [
            (await gate.send(send=f"f{n}", to=TELE2, callback=fast.url_for("/fast")))[0][
                "server_id"
            ]
            for n in range(3)
        ]
        calls = await fast.wait_for(count=6, timeout=10)
        assert {c.params["server_id"] for c in calls} == set(fast_ids)
        # The hung attempt was abandoned after the timeout and tried again.
        await slow.wait_for_requests(count=2, timeout=10)
        slow.behave("ok")
        done = await slow.wait_for(count=2, timeout=15)
    assert statuses(done, stuck["server_id"]) == ["1", "2"]
    assert slow.requests[0].answered is None


@pytest.mark.parametrize("behaviour", ["big", "never_close"])
async def test_huge_or_endless_answers_are_not_read(gate: Gate, behaviour: str) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        rx.behave(behaviour)  # type: ignore[arg-type]
        (item,) = await gate.send(send="x", to=TELE2, callback=rx.url_for("/big"))
        calls = await rx.wait_for(count=2, timeout=10)
    assert statuses(calls, item["server_id"]) == ["1", "2"]


async def test_a_redirect_is_never_followed(gate: Gate) -> None:
    async with CallbackReceiver(secret=gate.secret) as rx:
        rx.behave("redirect", location="http://169.254.169.254/latest/meta-data")
        (item,) = await gate.send(send="x", to=TELE2, callback=rx.url_for("/r"))
        tried = await rx.wait_for_requests(count=2, timeout=10)
        assert [c.answered for c in tried[:2]] == [302, 302]
        assert statuses(tried[:2], item["server_id"]) == ["1", "1"]  # retried, not followed
        rx.behave("ok")
        calls = await rx.wait_for(count=2, timeout=10)
    assert statuses(calls, item["server_id"]) == ["1", "2"]


async def test_account_status_url_and_inbound_url(gate: Gate) -> None:
    account = gate.account
    async with CallbackReceiver(secret=gate.secret) as rx:
        gate.server.cli(
            "account",
            "set",
            str(account.id),
            "--status-url",
            rx.url_for("/default"),
            "--inbound-url",
            rx.url_for("/inbound"),
            "--status-method",
            "post",
        )
        try:
            (item,) = await gate.send(send="x", to=TELE2)
            gate.server.inbound(account.id, phone=TELE2, num="79021121075", text="Да, 5")

            def complete(calls: list[ReceivedCallback]) -> bool:
                paths = {c.path for c in calls}
                return "/inbound" in paths and "2" in statuses(calls, item["server_id"])

            calls = await rx.wait_until(complete, timeout=15, goal="inbound and status 2")
        finally:
            gate.server.cli(
                "account", "set", str(account.id), "--status-url", "", "--inbound-url", ""
            )
    by_path = {c.path: c for c in calls}
    assert by_path["/inbound"].params["text"] == "Да, 5"
    assert by_path["/inbound"].params["phone"] == TELE2
    assert by_path["/inbound"].method == "POST"
    assert by_path["/inbound"].signature_valid is True
    default = [c for c in calls if c.path == "/default"]
    assert distinct(statuses(default, item["server_id"])) == ["1", "2"]


def test_the_cli_refuses_status_urls_the_policy_forbids(tmp_path: Path) -> None:
    server = Server(tmp_path, "serve")  # default policy: nothing internal allowed
    account = server.create_account(balance="1.00")
    done = server.run_cli(
        "account", "set", str(account.id), "--status-url", "http://169.254.169.254/x"
    )
    assert done.returncode != 0
    assert "forbidden address" in done.stderr


def test_rotating_the_secret_changes_it(gate: Gate) -> None:
    first = gate.server.cli("account", "secret", str(gate.account.id)).split()[-1]
    assert first == gate.secret and len(first) == 64
    rotated = gate.server.cli("account", "secret", str(gate.account.id), "--rotate").split()[-1]
    assert rotated != first
    # Put it back for the other tests of this module.
    gate.secret = rotated
