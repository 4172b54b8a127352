"""The gateway and its pipeline in the test process, on a fresh in-memory SQLite store.

No subprocess, no socket: each test gets a store migrated like a real install (the shipped
default tariff, the built-in emulator and its catch-all route, as `bootstrap` writes them),
a Gateway on a clock the test moves by hand, an Outbox worker it runs one round at a time,
and a customer account holding 1000.00. The rules are then judged by what a customer sees:
error codes, prices, balances and message statuses."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pilotgate import bootstrap
from pilotgate.config import Settings
from pilotgate.connectors.base import Connector
from pilotgate.domain import accounts
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Message
from pilotgate.errors import ApiError
from pilotgate.gateway import CallbackCheck, Gateway, GatewayPolicy, SendRequest, SendResult
from pilotgate.pipeline.connector_pool import ConnectorPool
from pilotgate.pipeline.outbox import Outbox
from pilotgate.storage.base import ConnectorInfo, NewAccount
from pilotgate.storage.roles import Store

#: A Monday morning, UTC; every test starts here.
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
KEY = "Rules0123456789" + "a" * 49
#: 1000.00 on the account, in kopecks.
START_BALANCE = 100_000
#: Tele2 in the shipped default tariff: 3.95 a part (the README's example number).
TELE2 = "79087964781"
TELE2_PRICE = 395


class Clock:
    """The time the gateway and the worker read; it moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Rig:
    """One in-process gateway, its worker, and the account the tests send from."""

    def __init__(self, store: Store, clock: Clock, account_id: int) -> None:
        self.store = store
        self.clock = clock
        self.account_id = account_id
        self.gateway = self.make_gateway()
        #: Connectors by name that the worker uses instead of what the factory would build.
        self.connectors: dict[str, Connector] = {}
        factory = bootstrap.connector_factory(Settings(emulator_delay=1.0))

        def make(info: ConnectorInfo) -> Connector | None:
            return self.connectors.get(info.name) or factory(info)

        self.outbox = Outbox(
            store, ConnectorPool(make), clock, poll_interval=0.2, lease_seconds=30.0
        )

    def make_gateway(self, callback_check: CallbackCheck | None = None, **policy: Any) -> Gateway:
        # Tariff and route caches off: a test that changes routes sees them at once.
        policy.setdefault("tariff_cache_seconds", 0.0)
        policy.setdefault("emulator_emails", frozenset({bootstrap.DEMO_EMAIL}))
        if callback_check is None:
            return Gateway(self.store, self.clock, GatewayPolicy(**policy))
        return Gateway(self.store, self.clock, GatewayPolicy(**policy), callback_check)

    async def account(self) -> Account:
        found = await self.store.account(self.account_id)
        assert found is not None
        return found

    async def balance(self) -> int:
        return (await self.account()).balance

    async def send(
        self,
        text: str = "Hello",
        to: str | None = TELE2,
        *,
        gateway: Gateway | None = None,
        **fields: Any,
    ) -> SendResult:
        """An API-1 send as the account, with its balance as the database has it now."""
        request = SendRequest(text=text, to=to, **fields)
        return await (gateway or self.gateway).send(await self.account(), request)

    async def refused(self, text: str = "Hello", to: str | None = TELE2, **fields: Any) -> int:
        """The error code a send is refused with (fails the test if it is accepted)."""
        with pytest.raises(ApiError) as caught:
            await self.send(text, to, **fields)
        return caught.value.code

    async def message(self, server_id: int) -> Message:
        (found,) = (await self.gateway.check(await self.account(), [server_id])).values()
        return found

    async def messages(self) -> list[Message]:
        return await self.store.find_messages(self.account_id)

    async def rounds(self, count: int = 1, *, step: float = 1.0) -> None:
        """`count` worker rounds, the clock moving `step` seconds before each one."""
        for _ in range(count):
            self.clock.advance(seconds=step)
            await self.outbox.run_once()

    async def add_sender(self, name: str, state: Any) -> None:
        await self.store.add_sender(self.account_id, name, "shop", "", state, self.clock())


async def code_of(call: Awaitable[object]) -> int:
    """The error code `call` is refused with (fails the test if it succeeds)."""
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value.code


async def open_account(
    store: Store,
    clock: Clock,
    *,
    email: str = "client@example.org",
    key: str = KEY,
    balance: int = START_BALANCE,
    **fields: Any,
) -> int:
    account = await store.create_account(
        NewAccount(
            email=email,
            # Nobody logs in with a password here; a real hash would only cost time.
            password_hash="!",
            key_digest=accounts.key_digest(key),
            tariff_id=1,
            **fields,
        ),
        clock(),
    )
    if balance:
        await store.credit(account.id, balance, "topup", "test credit", clock())
    return account.id


def ids(result: SendResult) -> list[int]:
    return [server_id for server_id, _ in result.items]


def errors(result: SendResult) -> list[tuple[str, int]]:
    return [(draft.phone, draft.error) for _, draft in result.items]
