"""PilotGate as an SMSC: one bind, window 50, submit_sm accepted per second (each answered
only after its message is committed). The gateway runs on a fresh SQLite file; the ESME is
smpp34's client in the same process, so the figure is a floor (they share one core).

Usage: .venv/bin/python bench/smpp_server.py [COUNT]
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
import smpp34
import uvloop

from pilotgate import bootstrap
from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.config import Settings
from pilotgate.domain.accounts import key_digest
from pilotgate.gateway import Gateway
from pilotgate.storage.base import NewAccount
from pilotgate.storage.sqlite import SqliteStore

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
WINDOW = 50


async def main(folder: Path) -> None:
    store = SqliteStore(str(folder / "bench.db"))
    await store.upgrade()
    await bootstrap.ensure_defaults(store, Settings())
    gateway = Gateway(store, lambda: datetime.now(UTC))
    now = gateway.clock()
    account = await store.create_account(
        NewAccount(
            email="bench@example.org",
            password_hash="!",
            key_digest=key_digest("B" * 64),
            tariff_id=1,
            any_sender=True,
        ),
        now,
    )
    await store.credit(account.id, 10**12, "topup", "bench", now)
    await store.set_smpp_credentials(
        account.id, "bench", argon2.PasswordHasher().hash("bench123"), now
    )
    server = SmppServer(gateway, SmppServerSettings(window=WINDOW))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    await server.start(sock)
    client = smpp34.Client(
        host="127.0.0.1",
        port=sock.getsockname()[1],
        system_id="bench",
        password="bench123",
        bind_type="TRX",
        window_size=WINDOW,
    )
    smsc = await client.connect()
    gate = asyncio.Semaphore(WINDOW)
    refused = 0

    async def one(i: int) -> None:
        nonlocal refused
        async with gate:
            resp = await smsc.submit_sm(
                destination_addr=f"7908{i % 10_000_000:07d}",
                short_message=b"bench %d" % i,
                source_addr="INFORM",
            )
            refused += not resp.is_success

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(COUNT)))
    elapsed = time.perf_counter() - started
    await smsc.unbind()
    await client.stop()
    await server.stop()
    stored = len(await store.find_messages(account.id, limit=COUNT + 1))
    await store.close()
    print(
        f"{COUNT} submit_sm, window {WINDOW}: {COUNT / elapsed:,.0f}/s accepted "
        f"({refused} refused, {stored} stored)"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        uvloop.run(main(Path(folder)))
