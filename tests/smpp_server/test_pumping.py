"""The SMS-pumping rules over SMPP count per bind address as per account (issue 16): two
accounts bound from one client address (named by a trusted proxy's PROXY header) pumping one
range of numbers share the address's counter, and the messages past its limit are held
(status 4), though neither account alone passes the limit."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import AsyncIterator

import argon2
import pytest

from pilotgate.api.smpp import SmppServer, SmppServerSettings
from pilotgate.domain import pumping
from pilotgate.domain.messages import Status
from pilotgate.storage.base import NewAccount

from .conftest import PASSWORD, SYSTEM_ID, Esme, Smsc

#: A public address: only those name one caller (pumping.source_scope).
CLIENT = "8.8.8.8"


@pytest.fixture
async def proxied(smsc: Smsc) -> AsyncIterator[int]:
    """A server behind a trusted proxy (the test itself, on loopback), with the rules on."""
    smsc.gateway.policy = dataclasses.replace(smsc.gateway.policy, pumping=pumping.DEFAULTS)
    proxies = (ipaddress.ip_network("127.0.0.1/32"),)
    server = SmppServer(smsc.gateway, SmppServerSettings(window=50, proxies=proxies))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    await server.start(sock)
    try:
        yield sock.getsockname()[1]
    finally:
        await server.stop()


async def second_account(smsc: Smsc) -> int:
    store, now = smsc.gateway.store, smsc.gateway.clock()
    account = await store.create_account(
        NewAccount(email="b@example.org", password_hash="!", key_digest="k2", tariff_id=1), now
    )
    await store.credit(account.id, 100_000, "topup", "test credit", now)
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    await store.set_smpp_credentials(account.id, "shop2", cheap.hash(PASSWORD), now)
    return account.id


async def bind_from(port: int, system_id: str) -> Esme:
    esme = Esme(port)
    await esme.call(esme.client.connect)
    await esme.call(
        esme.client._socket.sendall, f"PROXY TCP4 {CLIENT} 127.0.0.1 5 2775\r\n".encode()
    )
    await esme.call(esme.client.bind_transceiver, system_id=system_id, password=PASSWORD)
    return esme


async def test_a_sequential_burst_from_one_address_is_held_past_the_range_limit(smsc, proxied):
    other = await second_account(smsc)
    first, second = await bind_from(proxied, SYSTEM_ID), await bind_from(proxied, "shop2")
    try:
        for n in range(14):  # 7 each, alternately: 14 numbers of one block of 1000
            esme = (first, second)[n % 2]
            status, _ = await esme.submit(
                source_addr="INFORM", destination_addr=f"7908796{n:04d}", short_message=b"code"
            )
            assert status == 0
    finally:
        await first.close()
        await second.close()
    found = [
        m
        for account_id in (smsc.account_id, other)
        for m in await smsc.gateway.store.find_messages(account_id)
    ]
    statuses = [m.status for m in sorted(found, key=lambda m: m.phone)]
    # The address's first 10 numbers of the range go; the rest are held, not sent.
    assert statuses == [Status.ACCEPTED] * 10 + [Status.HELD] * 4
