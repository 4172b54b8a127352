"""Receipts and inbound SMS back to a customer's SMPP binds through the whole gateway: the
real `pilotgate serve` with `smpp_listen`, the built-in emulator as the operator, and an ESME
written apart from our code (smpplib). A receipt comes back with the server_id that
submit_sm_resp gave; what is owed while nothing is bound, across a restart of the gateway
(SIGTERM, a new process on the same database), arrives on the next bind."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import smpplib.client
import smpplib.consts as c
import smpplib.smpp

from .support import TELE2, UNDELIVERABLE, Account, Api, Server, running
from .test_smpp import simulator

SYSTEM_ID, PASSWORD = "shop", "s3cret12"
METRICS_TOKEN = "metrics-token-for-tests"
SMPP_BANNER = re.compile(r"^SMPP on 127\.0\.0\.1:(\d+)$")


def _server(tmp_path: Path, database: str) -> Server:
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_SMPP_LISTEN": "127.0.0.1:0",
        "PILOTGATE_POLL_INTERVAL": "0.05",
        "PILOTGATE_SMPP_RECEIPT_POLL": "0.1",
        "PILOTGATE_METRICS_TOKEN": METRICS_TOKEN,
    }
    return Server(tmp_path, "serve", settings=settings)


def _smpp_port(server: Server) -> int:
    lines = server.printed(lambda seen: any(SMPP_BANNER.match(line) for line in seen))
    (port,) = [int(m.group(1)) for line in lines if (m := SMPP_BANNER.match(line))]
    return port


@contextlib.contextmanager
def _bound(port: int, kind: str = "transceiver") -> Iterator[smpplib.client.Client]:
    client = smpplib.client.Client("127.0.0.1", port, timeout=20, allow_unknown_opt_params=True)
    client.connect()
    try:
        getattr(client, f"bind_{kind}")(system_id=SYSTEM_ID, password=PASSWORD)
        yield client
        client.unbind()
    finally:
        client.disconnect()


def _submit(client: smpplib.client.Client, phone: str, text: bytes) -> str:
    client.send_message(
        source_addr="",
        destination_addr=phone,
        short_message=text,
        registered_delivery=c.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
    )
    resp = client.read_pdu()
    assert resp.command == "submit_sm_resp" and resp.status == 0, resp.status
    return str(resp.message_id.decode())


def _deliver_sm(client: smpplib.client.Client, status: int = 0) -> Any:
    """The next deliver_sm (enquire_link answered on the way), answered with `status`."""
    while True:
        pdu = client.read_pdu()
        if pdu.command in ("enquire_link", "deliver_sm"):
            resp = smpplib.smpp.make_pdu(f"{pdu.command}_resp", client=client, status=status)
            resp.sequence = pdu.sequence
            client.send_pdu(resp)
            if pdu.command == "deliver_sm":
                return pdu


def _receipted(pdu: Any) -> tuple[str, str]:
    """(receipted_message_id, the text's stat)."""
    stat = re.search(r" stat:(\w+) ", pdu.short_message.decode())
    assert pdu.esm_class == 0x04 and stat, pdu.short_message
    return pdu.receipted_message_id.decode(), stat.group(1)


def _account(server: Server) -> Account:
    account = server.create_account(balance="100.00")
    server.cli(
        "account", "set", str(account.id),
        "--smpp-system-id", SYSTEM_ID, "--smpp-password", PASSWORD,
    )  # fmt: skip
    return account


def test_receipts_come_back_and_refused_ones_are_sent_again(tmp_path: Path, database: str):
    server = _server(tmp_path, database)
    with running(server):
        _account(server)
        with _bound(_smpp_port(server)) as esme:
            delivered = _submit(esme, TELE2, b"Your code is 4711")
            # The first receipt is refused by the client: it comes again after its backoff.
            assert _receipted(_deliver_sm(esme, status=c.SMPP_ESME_RSYSERR)) == (
                delivered,
                "DELIVRD",
            )
            assert _receipted(_deliver_sm(esme)) == (delivered, "DELIVRD")
            failed = _submit(esme, UNDELIVERABLE, b"Nobody home")
            pdu = _deliver_sm(esme)
            assert _receipted(pdu) == (failed, "UNDELIV")
            assert pdu.message_state == 5


def test_receipts_and_inbound_sms_wait_across_a_restart_for_the_next_bind(
    tmp_path: Path, database: str
):
    first = _server(tmp_path, database)
    with running(first), httpx.Client(timeout=30) as http:
        account = _account(first)
        with _bound(_smpp_port(first), "transmitter") as esme:
            sent = [_submit(esme, TELE2, f"Message {n}".encode()) for n in range(3)]
        client = Api(http, first.url, account.key)
        assert [client.wait_status(sid)["status"] for sid in sent] == ["2", "2", "2"]
        first.inbound(account, phone=TELE2, num="79990000001", text="Ответ")
        shown = http.get(
            f"{first.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        ).text
        assert "\npilotgate_smpp_deliveries_waiting 4.0\n" in shown
    # A new process on the same database: nothing owed was lost with the old one.
    second = _server(tmp_path, database)
    with running(second), _bound(_smpp_port(second), "receiver") as esme:
        pdus = [_deliver_sm(esme) for _ in range(4)]
        receipts = sorted(_receipted(p) for p in pdus if p.esm_class == 0x04)
        assert receipts == sorted((sid, "DELIVRD") for sid in sent)
        (inbound,) = [p for p in pdus if p.esm_class == 0]
        assert inbound.short_message.decode("utf-16-be") == "Ответ"
        assert inbound.source_addr == TELE2.encode()


def test_a_receipt_from_an_smpp_link_reaches_the_bind_without_waiting_for_its_poll(
    tmp_path: Path, database: str
):
    # The bind looks for receipts once an hour: only the wake-up by the receipt that this
    # process's link to the SMSC recorded can bring it within the client's 20 s timeout.
    with simulator() as port:
        settings = {
            "PILOTGATE_DATABASE_URL": database,
            "PILOTGATE_SMPP_LISTEN": "127.0.0.1:0",
            "PILOTGATE_POLL_INTERVAL": "0.05",
            "PILOTGATE_SMPP_RECEIPT_POLL": "3600",
        }
        server = Server(tmp_path, "serve", settings=settings)
        with running(server):
            server.cli(
                "connector", "add", "smpp", "sim", "--host", "127.0.0.1", "--port", str(port),
                "--system-id", "pilot", "--password", "secret",
            )  # fmt: skip
            server.cli("route", "add", "*", "sms", "sim")
            _account(server)
            with _bound(_smpp_port(server)) as esme:
                sent = _submit(esme, "79161234561", b"Your code is 4711")
                assert _receipted(_deliver_sm(esme)) == (sent, "DELIVRD")
