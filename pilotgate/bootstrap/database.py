"""The database the settings name: opened and migrated, backed up and restored, and given
its defaults (the default tariff, the built-in emulator, the config file's routing, the demo
account)."""

from __future__ import annotations

import secrets
from importlib import resources
from pathlib import Path

from pilotgate.bootstrap.connectors import connector_decoder
from pilotgate.bootstrap.gateway import (
    DEMO_EMAIL,
    DEMO_KEY,
    DEMO_PASSWORD,
    EMULATOR,
    build_gateway,
    now,
)
from pilotgate.config import Settings
from pilotgate.domain import accounts, audit, tariff_csv
from pilotgate.domain.routing import ALL_CHANNELS, Route
from pilotgate.domain.tariffs import Rate
from pilotgate.errors import ConfigError
from pilotgate.gateway import Gateway
from pilotgate.operations import connectors as connector_ops, routes as route_ops
from pilotgate.storage.base import NewAccount
from pilotgate.storage.roles import Store
from pilotgate.storage.sqlite import SqliteStore


def new_callback_secret() -> str:
    """The key of an account's X-PilotGate-Signature (HMAC-SHA256)."""
    return secrets.token_hex(32)


async def open_store(settings: Settings) -> Store:
    """The store the database URL names, migrated to the latest schema."""
    url = settings.database_url
    store: Store
    if url.startswith("sqlite:///"):
        store = SqliteStore(url.removeprefix("sqlite:///"), synchronous=settings.sqlite_synchronous)
    elif url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import PostgresStore

        store = await PostgresStore.open(url, prepare=settings.postgres_prepare)
    else:
        raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")
    await store.upgrade()
    await ensure_defaults(store, settings)
    return store


def backup_database(settings: Settings, target: Path) -> int:
    """A consistent copy of the live database in `target` (`pilotgate db backup`); its size."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        from pilotgate.storage.sqlite import backup

        return backup.backup(url.removeprefix("sqlite:///"), target)
    if url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import dump

        return dump.dump(url, target)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")


def restore_database(settings: Settings, source: Path) -> int:
    """The database of the settings made a copy of the backup `source` (`db restore`)."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        from pilotgate.storage.sqlite import backup

        return backup.restore(source, url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from pilotgate.storage.postgres import dump

        return dump.restore(source, url)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://: {url!r}")


def parse_tariff_csv(text: str) -> list[Rate]:
    """Rows of `prefix,channel,price,country,operator` (a header row is optional)."""
    return tariff_csv.parse(text)


def default_rates() -> list[Rate]:
    text = resources.files("pilotgate.data").joinpath("default_tariff.csv").read_text("utf-8")
    return parse_tariff_csv(text)


async def ensure_defaults(store: Store, settings: Settings) -> None:
    """A fresh database gets the default tariff, the built-in emulator connector and one
    route sending every number on every channel to it."""
    if not any(t.id == settings.default_tariff for t in await store.tariffs()):
        await store.replace_tariff(settings.default_tariff, "default", default_rates())
    if not any(c.name == EMULATOR for c in await store.connectors()):
        await store.save_connector(EMULATOR, "emulator", "{}", 0)
        if not await store.routes():
            await store.save_route(Route(prefix="", channel=ALL_CHANNELS, connectors=(EMULATOR,)))
    await apply_config_routing(store, settings)


async def apply_config_routing(store: Store, settings: Settings) -> None:
    """The config file's [[connector]] and [[route]] tables, written over the database's;
    a connector that could not start stops the gateway, naming the setting."""
    if not settings.connectors and not settings.routes:
        return
    gateway, decode = build_gateway(settings, store), connector_decoder(settings)
    for spec in settings.connectors:
        await connector_ops.save(
            gateway,
            audit.CONFIG,
            decode,
            kind=spec.kind,
            name=spec.name,
            options=dict(spec.options),
            mps=spec.mps,
        )
    for route in settings.routes:
        await route_ops.add(
            gateway,
            audit.CONFIG,
            route.prefix,
            route.channel,
            route.connectors,
            hlr_unreliable=route.hlr_unreliable,
            operator=route.operator,
        )


async def ensure_demo(gateway: Gateway, settings: Settings) -> int:
    """The demo account with the published key and 1000.00 of credit, once."""
    existing = await gateway.store.account_by_key(accounts.key_digest(DEMO_KEY))
    if existing is not None:
        return existing.id
    account = await gateway.store.create_account(
        NewAccount(
            email=DEMO_EMAIL,
            password_hash=gateway.hash_password(DEMO_PASSWORD),
            key_digest=accounts.key_digest(DEMO_KEY),
            tariff_id=settings.default_tariff,
            name="Demo",
            default_sender=settings.default_sender,
            callback_secret=new_callback_secret(),
        ),
        now(),
    )
    await gateway.store.credit(account.id, 100_000, "topup", "demo credit", now())
    return account.id
