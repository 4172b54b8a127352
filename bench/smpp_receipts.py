"""PilotGate as an SMSC, the way back: deliver_sm per second to one receiving bind, each row
deleted only after its deliver_sm_resp 0. COUNT inbound SMS are stored first (each leaves
its row by the database's trigger); then an ESME (smpplib, in a thread of the same process)
binds as a receiver and answers every deliver_sm; the figure is from its bind to its last
answer. SQLite file in a temporary directory.

Usage: .venv/bin/python bench/smpp_receipts.py [COUNT]
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import argon2
import smpplib.client
import smpplib.smpp

from pilotgate import bootstrap
from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.config import Settings
from pilotgate.domain.accounts import key_digest
from pilotgate.gateway import Gateway
from pilotgate.storage.base import NewAccount
from pilotgate.storage.sqlite import SqliteStore

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SYSTEM_ID, PASSWORD = "bench", "bench123"


def receive(port: int, count: int) -> float:
    """Bind as a receiver, answer `count` deliver_sm with status 0; seconds it took."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=60, allow_unknown_opt_params=True)
    client.connect()
    client.bind_receiver(system_id=SYSTEM_ID, password=PASSWORD)
    started, answered = time.monotonic(), 0
    while answered < count:
        pdu = client.read_pdu()
        if pdu.command in ("deliver_sm", "enquire_link"):
            resp = smpplib.smpp.make_pdu(f"{pdu.command}_resp", client=client)
            resp.sequence = pdu.sequence
            client.send_pdu(resp)
            answered += pdu.command == "deliver_sm"
    took = time.monotonic() - started
    client.unbind()
    client.disconnect()
    return took


async def main(folder: Path) -> None:
    store = SqliteStore(str(folder / "bench.db"))
    await store.upgrade()
    await bootstrap.ensure_defaults(store, Settings())
    gateway = Gateway(store, lambda: datetime.now(UTC))
    now = gateway.clock()
    account = await store.create_account(
        NewAccount(
            email="b@example.org", password_hash="!", key_digest=key_digest("b"), tariff_id=1
        ),
        now,
    )
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    await store.set_smpp_credentials(account.id, SYSTEM_ID, cheap.hash(PASSWORD), now)
    for n in range(COUNT):
        await store.add_inbound(account.id, "79087964781", "79990000001", f"Reply {n}", now)
    server = SmppServer(gateway, SmppServerSettings())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    await server.start(sock)
    try:
        took = await asyncio.to_thread(receive, sock.getsockname()[1], COUNT)
        await server.stop()  # the bind's last answers are recorded as it ends
        left = sum((await gateway.deliveries_waiting()).values())
    finally:
        await server.stop()
        await store.close()
    print(f"{COUNT} deliver_sm answered in {took:.2f} s: {COUNT / took:,.0f}/s ({left} left)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp)))
