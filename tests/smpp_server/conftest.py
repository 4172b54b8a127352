"""PilotGate's SMSC side in the test process: a gateway on an in-memory SQLite store (the
shipped default tariff and emulator route), an account of 1000.00 with SMPP credentials,
and the SMPP server on a loopback port. The ESME is smpplib, written apart from smpp34 (whose
codec the server reads submit_sm with), driven in a thread as the blocking client it is."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import argon2
import pytest
import smpplib.client
import smpplib.exceptions

from pilotgate import bootstrap
from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.config import Settings
from pilotgate.domain.accounts import key_digest
from pilotgate.gateway import Gateway, GatewayPolicy
from pilotgate.storage.base import NewAccount
from pilotgate.storage.sqlite import SqliteStore

SYSTEM_ID, PASSWORD = "shop", "s3cret12"


@dataclass
class Smsc:
    gateway: Gateway
    server: SmppServer
    port: int
    account_id: int

    def esme(self) -> Esme:
        return Esme(self.port)


class Esme:
    """A blocking smpplib client; `call` runs one of its steps off the event loop."""

    def __init__(self, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.client = smpplib.client.Client(
            "127.0.0.1", port, timeout=10, allow_unknown_opt_params=True, ssl_context=ssl_context
        )

    async def call(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(step, *args, **kwargs)

    async def bind(self, password: str = PASSWORD, kind: str = "transceiver") -> Any:
        await self.call(self.client.connect)
        bind = getattr(self.client, f"bind_{kind}")
        return await self.call(bind, system_id=SYSTEM_ID, password=password)

    async def submit(self, **fields: Any) -> tuple[int, str]:
        """Send one submit_sm and read its answer: (command_status, message_id)."""
        await self.call(self.client.send_message, **fields)
        return await self.answer()

    async def answer(self) -> tuple[int, str]:
        resp = await self.call(self.client.read_pdu)
        message_id = getattr(resp, "message_id", b"") or b""
        text = message_id.decode() if isinstance(message_id, bytes) else str(message_id)
        return int(resp.status), text

    async def close(self) -> None:
        await self.call(self.client.disconnect)


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    store = SqliteStore(":memory:")
    await store.upgrade()
    await bootstrap.ensure_defaults(store, Settings())
    gateway = Gateway(store, lambda: datetime.now(UTC), GatewayPolicy(tariff_cache_seconds=0))
    now = gateway.clock()
    account = await store.create_account(
        NewAccount(
            email="shop@example.org",
            password_hash="!",
            key_digest=key_digest("Smpp" + "0" * 60),
            tariff_id=1,
        ),
        now,
    )
    await store.credit(account.id, 100_000, "topup", "test credit", now)
    # A cheap argon2 hash: a bind verifies with the parameters the hash names, so each
    # test's binds cost microseconds, not the default's 64 MiB and 0.1 s.
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    await store.set_smpp_credentials(account.id, SYSTEM_ID, cheap.hash(PASSWORD), now)
    server = SmppServer(gateway, SmppServerSettings(window=50))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    await server.start(sock)
    try:
        yield Smsc(gateway, server, sock.getsockname()[1], account.id)
    finally:
        await server.stop()
        await store.close()


def pdu_error(error: smpplib.exceptions.PDUError) -> int:
    return int(error.args[1])
