"""The operator use cases behind `connector add`, `route add/remove` and `number pool`
(pilotgate/operations/), on a real SQLite database: what they store and what they refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate import bootstrap, config
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.operations import connectors, numbers, routes


@pytest.fixture
async def gateway(tmp_path: Path):
    settings = config.Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}")
    store = await bootstrap.open_store(settings)
    try:
        yield settings, store
    finally:
        await store.close()


async def test_a_connector_is_stored_only_when_its_schema_accepts_it(gateway):
    settings, store = gateway
    decode = bootstrap.connector_decoder(settings)
    with pytest.raises(ConfigError, match="connector op: setting 'port' must be 1-65535"):
        await connectors.save(
            store,
            decode,
            kind="smpp",
            name="op",
            options={"host": "h", "port": 0, "system_id": "s", "password": "p"},
            mps=0,
        )
    assert "op" not in {c.name for c in await store.connectors()}
    relay = {"url": "https://up.example", "apikey": "k", "callback_url": "https://gw.example"}
    first = await connectors.save(store, decode, kind="relay", name="up", options=relay, mps=5)
    again = await connectors.save(store, decode, kind="relay", name="up", options=relay, mps=5)
    # Reconfiguring keeps the callback token the upstream already calls back with.
    assert first["callback_token"] == again["callback_token"]
    (row,) = [c for c in await store.connectors() if c.name == "up"]
    assert (json.loads(row.settings), row.mps) == (again, 5)


async def test_routes_name_known_connectors_and_remove_only_what_exists(gateway):
    _, store = gateway
    with pytest.raises(ConfigError, match="unknown connectors: \\['nope'\\]"):
        await routes.add(store, "7916", "sms", ["nope"])
    with pytest.raises(ConfigError, match="digits, or \\*"):
        await routes.add(store, "79x", "sms", ["emulator"])
    added = await routes.add(store, "+7916", "sms", ["emulator"], hlr_unreliable=True)
    assert (added.prefix, added.hlr_unreliable) == ("7916", True)
    assert added in await store.routes()
    await routes.remove(store, "7916", "sms")
    with pytest.raises(NotFoundError, match="no route 7916 sms"):
        await routes.remove(store, "7916", "sms")


async def test_pool_numbers_need_digit_prefixes_and_known_links(gateway):
    _, store = gateway
    with pytest.raises(ConfigError, match="digits only"):
        await numbers.pool_add(store, "79990001122", "7x")
    with pytest.raises(ConfigError, match="no connector 'ghost'"):
        await numbers.pool_add(store, "79990001122", "", "ghost")
    assert await numbers.pool_add(store, "+79990001122", "7", "emulator") == "79990001122"
    assert await numbers.pool_remove(store, "79990001122") == "79990001122"
    with pytest.raises(NotFoundError, match="not in the pool"):
        await numbers.pool_remove(store, "79990001122")
    with pytest.raises(NotFoundError, match="no account 999"):
        await numbers.assign(store, "79990001122", 999, bootstrap.now())
