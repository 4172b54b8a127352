"""SMPP through the whole gateway (SMPP issue): the operator adds an `smpp` connector and a
route with the CLI, clients send through `/api.php`, the SMSC simulator (another process,
`pilotgate smsc-sim`) answers with receipts, and the client sees statuses, charges and
callbacks. Failover: two worker processes on PostgreSQL; the one holding the bind is killed
and the other binds and drains the queue."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import Account, Api, Server, running, stop_process
from .test_crash import ReceiverThread

SIM_BANNER = re.compile(r"^SMSC simulator on 127\.0\.0\.1:(\d+), behaviour (\w+)$")
LATIN = "Your code is 4711"
CYRILLIC_LONG = "Здравствуйте! " * 6  # 84 characters: two UCS-2 parts
GSM_EXTENDED = "Price: 5€ [a] {b} ^~\\|"


@contextlib.contextmanager
def simulator(behaviour: str = "happy", receipt_delay: float = 0.1) -> Iterator[int]:
    """`pilotgate smsc-sim` on a free port; yields the port."""
    args = ["--behaviour", behaviour, "--receipt-delay", str(receipt_delay)]
    with simulator_command(["smsc-sim", "--port", "0", *args]) as port:
        yield port


@contextlib.contextmanager
def simulator_command(args: list[str]) -> Iterator[int]:
    """`pilotgate <args>`, a `smsc-sim` command line with `--port 0`; yields its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pilotgate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        match = SIM_BANNER.match(line)
        assert match, line
        yield int(match.group(1))
    finally:
        code = stop_process(proc, 10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0


def _add_link(server: Server, port: int, *extra: str) -> None:
    server.cli(
        "connector", "add", "smpp", "sim", "--host", "127.0.0.1", "--port", str(port),
        "--system-id", "pilot", "--password", "secret", *extra,
    )  # fmt: skip
    server.cli("route", "add", "*", "sms", "sim")


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # a poll interval, not a synchronisation


def _settings(database: str, **more: str) -> dict[str, str]:
    return {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
        "PILOTGATE_POLL_INTERVAL": "0.05",
        **more,
    }


def _client(server: Server, account: Account, http: httpx.Client) -> Api:
    return Api(http, server.url, account.key)


def test_messages_go_through_the_link_and_receipts_deliver_them(
    tmp_path: Path, database: str
) -> None:
    with simulator() as port, ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            _add_link(server, port)
            account = server.create_account(balance="100.00")
            client = _client(server, account, http)
            texts = {
                "79161234561": LATIN,
                "79161234562": CYRILLIC_LONG,
                "79161234563": GSM_EXTENDED,
            }
            sent = {}
            for phone, text in texts.items():
                answer = client.json(send=text, to=phone, callback=receiver.url)
                (item,) = answer["send"]
                sent[item["server_id"]] = item
            finals = {sid: client.wait_status(sid) for sid in sent}
            assert {sid: f["status"] for sid, f in finals.items()} == dict.fromkeys(sent, "2")
            assert [finals[sid]["parts"] for sid in sent] == ["1", "2", "1"]
            # Charged as answered: 4 parts at MTS's price.
            spent = sum(Decimal(item["price"]) for item in sent.values())
            assert spent == Decimal("4.35") * 4
            assert client.balance() == Decimal("100.00") - spent
            _wait(lambda: set(receiver.final_reports()) >= set(sent), 15, "final status callbacks")
            assert all(count == 1 for count in receiver.final_reports().values())
            shown = re.compile(r"^sim\tsmpp\tenabled.*\tbound=True .*submitted=4 ", re.M)
            _wait(lambda: shown.search(server.cli("connector", "list")), 10, "the link's state")


def test_undelivered_receipts_and_permanent_refusals(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'gate.db'}")
    with simulator("undeliv") as port:
        server = Server(tmp_path, "serve", settings=settings)
        with running(server), httpx.Client(timeout=30) as http:
            _add_link(server, port)
            account = server.create_account(balance="100.00")
            client = _client(server, account, http)
            (item,) = client.json(send=LATIN, to="79161234561")["send"]
            final = client.wait_status(item["server_id"])
            assert (final["status"], final["error"]) == ("-1", "601")
            assert client.balance() == Decimal("100.00") - Decimal(item["price"])  # charged
    with simulator("generic_nack") as port:
        server = Server(tmp_path, "serve", settings=settings)
        with running(server), httpx.Client(timeout=30) as http:
            server.cli(
                "connector", "add", "smpp", "sim", "--host", "127.0.0.1", "--port", str(port),
                "--system-id", "pilot", "--password", "secret",
            )  # fmt: skip
            client = _client(server, account, http)
            before = client.balance()
            (item,) = client.json(send=LATIN, to="79161234562")["send"]
            final = client.wait_status(item["server_id"])
            assert (final["status"], final["error"]) == ("-2", "603")
            assert client.balance() == before  # an error is never charged


def test_inbound_sms_reach_the_account_that_has_the_number(tmp_path: Path, database: str) -> None:
    with simulator("mo_multipart") as port, ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=_settings(database))
        with running(server), httpx.Client(timeout=30) as http:
            account = server.create_account()
            server.cli("account", "set", str(account.id), "--inbound-url", receiver.url)
            server.cli("number", "add", "1000", str(account.id))
            _add_link(server, port)
            client = _client(server, account, http)

            def arrived() -> bool:
                return bool(client.json(inbound="all")["inbound"])

            _wait(arrived, 15, "the inbound SMS")
            (item,) = client.json(inbound="all")["inbound"]
            assert (item["phone"], item["num"], item["text"]) == (
                "79990000001",
                "1000",
                "Hello, long world",
            )
            assert receiver.receiver is not None
            _wait(
                lambda: any(c.params.get("text") == "Hello, long world"
                            for c in receiver.receiver.acknowledged),
                15,
                "the inbound callback",
            )  # fmt: skip


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as errors:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "pilotgate", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "PilotGate worker running"
    return proc


@pytest.mark.postgres
def test_the_link_fails_over_when_the_process_holding_it_dies(tmp_path: Path) -> None:
    with fresh_schema() as database, simulator(receipt_delay=0.05) as port:
        settings = _settings(database, PILOTGATE_LINK_LEASE_SECONDS="2", PILOTGATE_LOG_LEVEL="info")
        api = Server(tmp_path, "api", settings=settings)
        with running(api), httpx.Client(timeout=30) as http:
            _add_link(api, port)
            account = api.create_account(balance="1000.00")
            client = _client(api, account, http)
            logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
            workers = [_worker(api.env, log) for log in logs]
            try:
                _wait(
                    lambda: any("link sim: taking it" in log.read_text() for log in logs),
                    15,
                    "a worker to take the link",
                )
                holder = next(i for i, log in enumerate(logs) if "taking it" in log.read_text())
                first = client.json(send=LATIN, to="79161230001")["send"][0]["server_id"]
                assert client.wait_status(first)["status"] == "2"
                workers[holder].kill()  # SIGKILL: no unbind, no lease given back
                workers[holder].wait()
                ids = [
                    item["server_id"]
                    for item in client.json(
                        send=LATIN, to=",".join(f"7916123{n:04d}" for n in range(50))
                    )["send"]
                ]
                other = logs[1 - holder]
                _wait(lambda: "link sim: taking it" in other.read_text(), 20, "the takeover")
                assert all(client.wait_status(sid, timeout=30)["status"] == "2" for sid in ids)
            finally:
                for worker in workers:
                    stop_process(worker)
                    assert worker.stdout is not None
                    worker.stdout.close()


#: behaviour → (extra connector options, the final status and error every message must end
#: with). Expiry cases run with a default validity of 3 s.
BEHAVIOURS = {
    "throttling": ((), ("2", "0")),
    "queue_full": ((), ("2", "0")),
    "receipts_early": ((), ("2", "0")),
    "receipts_duplicated": ((), ("2", "0")),
    "receipts_hex_ids": (("--set", "resp_id=dec", "--set", "receipt_id=hex"), ("2", "0")),
    "drop_tcp": (("--set", "reconnect_base=0.1"), ("2", "0")),
    "unbind_mid_window": (("--set", "reconnect_base=0.1"), ("2", "0")),
    "expired": ((), ("-1", "600")),
    "receipts_never": ((), ("-1", "600")),
    "no_resp": (("--set", "response_timeout=0.5"), ("-1", "600")),
}


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_every_message_ends_once_and_is_charged_whatever_the_smsc_does(
    tmp_path: Path, behaviour: str
) -> None:
    options, (status, error) = BEHAVIOURS[behaviour]
    validity = "3" if error == "600" else "86400"
    settings = _settings(
        f"sqlite:///{tmp_path / 'gate.db'}", PILOTGATE_DEFAULT_VALIDITY_SECONDS=validity
    )
    with simulator(behaviour) as port, ReceiverThread() as receiver:
        server = Server(tmp_path, "serve", settings=settings)
        with running(server), httpx.Client(timeout=30) as http:
            _add_link(server, port, *options)
            account = server.create_account(balance="100.00")
            client = _client(server, account, http)
            phones = ",".join(f"7916123{n:04d}" for n in range(12))
            answer = client.json(send=LATIN, to=phones, callback=receiver.url)
            ids = [item["server_id"] for item in answer["send"]]
            finals = [client.wait_status(sid, timeout=20) for sid in ids]
            assert {(f["status"], f["error"]) for f in finals} == {(status, error)}
            # Charged once per message, as answered (an undelivered SMS is still charged).
            assert client.balance() == Decimal("100.00") - Decimal(answer["cost"])
            _wait(lambda: set(receiver.final_reports()) >= set(ids), 15, "final callbacks")
            assert all(count == 1 for count in receiver.final_reports().values())
