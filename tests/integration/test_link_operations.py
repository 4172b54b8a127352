"""The operator use cases behind `connector add`, `route add/remove`, `number pool` and `stop`
(pilotgate/operations/), on a real SQLite database: what they store, what they refuse, and
the audit entry each change leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilotgate import bootstrap, config
from pilotgate.domain import audit
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.operations import audit as trail, connectors, numbers, routes, stops

OPERATOR = audit.operator("ops@example.com")


@pytest.fixture
async def gateway(tmp_path: Path):
    settings = config.Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}")
    store = await bootstrap.open_store(settings)
    try:
        yield settings, bootstrap.build_gateway(settings, store)
    finally:
        await store.close()


async def _newest(gw) -> tuple[str, str, int | None, str]:
    entry = (await trail.trail(gw, None, 1))[0]
    return (entry.actor, entry.action, entry.account_id, entry.detail)


async def test_a_connector_is_stored_only_when_its_schema_accepts_it(gateway):
    settings, gw = gateway
    store = gw.store
    decode = bootstrap.connector_decoder(settings)
    with pytest.raises(ConfigError, match="connector op: setting 'port' must be 1-65535"):
        await connectors.save(
            gw,
            audit.CLI,
            decode,
            kind="smpp",
            name="op",
            options={"host": "h", "port": 0, "system_id": "s", "password": "p"},
            mps=0,
        )
    assert "op" not in {c.name for c in await store.connectors()}
    relay = {"url": "https://up.example", "apikey": "k", "callback_url": "https://gw.example"}
    first = await connectors.save(
        gw, audit.CLI, decode, kind="relay", name="up", options=relay, mps=5
    )
    again = await connectors.save(
        gw, audit.CLI, decode, kind="relay", name="up", options=relay, mps=5
    )
    # Reconfiguring keeps the callback token the upstream already calls back with.
    assert first["callback_token"] == again["callback_token"]
    (row,) = [c for c in await store.connectors() if c.name == "up"]
    assert (json.loads(row.settings), row.mps) == (again, 5)
    # One entry for the change, none for saving the same again; settings named, not shown.
    saved = [e for e in await trail.trail(gw) if e.action == "connector.save"]
    assert [(e.actor, e.detail) for e in saved] == [
        ("cli", "up relay mps=5 settings: apikey,callback_token,callback_url,url")
    ]


async def test_enabling_and_disabling_a_connector_is_audited(gateway):
    _, gw = gateway
    await connectors.set_enabled(gw, OPERATOR, "emulator", False)
    assert not next(c for c in await connectors.listing(gw) if c.name == "emulator").enabled
    assert await _newest(gw) == (OPERATOR, "connector.disable", None, "emulator")
    with pytest.raises(NotFoundError):
        await connectors.set_enabled(gw, OPERATOR, "ghost", True)
    assert await _newest(gw) == (OPERATOR, "connector.disable", None, "emulator")


async def test_routes_name_known_connectors_and_remove_only_what_exists(gateway):
    _, gw = gateway
    store = gw.store
    with pytest.raises(ConfigError, match="unknown connectors: \\['nope'\\]"):
        await routes.add(gw, OPERATOR, "7916", "sms", ["nope"])
    with pytest.raises(ConfigError, match="digits, or \\*"):
        await routes.add(gw, OPERATOR, "79x", "sms", ["emulator"])
    added = await routes.add(gw, OPERATOR, "+7916", "sms", ["emulator"], hlr_unreliable=True)
    assert (added.prefix, added.hlr_unreliable) == ("7916", True)
    assert added in await store.routes()
    await routes.remove(gw, OPERATOR, "7916", "sms")
    assert await _newest(gw) == (OPERATOR, "route.remove", None, "7916 sms")
    with pytest.raises(NotFoundError, match="no route 7916 sms"):
        await routes.remove(gw, OPERATOR, "7916", "sms")


async def test_pool_numbers_need_digit_prefixes_and_known_links(gateway):
    _, gw = gateway
    with pytest.raises(ConfigError, match="digits only"):
        await numbers.pool_add(gw, audit.CLI, "79990001122", "7x")
    with pytest.raises(ConfigError, match="no connector 'ghost'"):
        await numbers.pool_add(gw, audit.CLI, "79990001122", "", "ghost")
    assert await numbers.pool_add(gw, audit.CLI, "+79990001122", "7", "emulator") == "79990001122"
    assert await numbers.pool_remove(gw, audit.CLI, "79990001122") == "79990001122"
    with pytest.raises(NotFoundError, match="not in the pool"):
        await numbers.pool_remove(gw, audit.CLI, "79990001122")
    with pytest.raises(NotFoundError, match="no account 999"):
        await numbers.assign(gw, audit.CLI, "79990001122", 999)


async def test_stop_lists_are_changed_with_an_audit_entry(gateway):
    _, gw = gateway
    assert await stops.add(gw, OPERATOR, None, ["+7 916 000-11-22", "79160001133"], "spam") == 2
    assert await _newest(gw) == (
        OPERATOR,
        "stop.add",
        None,
        "global: 2 of 2 (spam): 79160001122 79160001133",
    )
    assert [e.phone for e in await stops.listing(gw, None)] == ["79160001122", "79160001133"]
    assert await stops.remove(gw, OPERATOR, None, "+79160001122") == "79160001122"
    assert await _newest(gw) == (OPERATOR, "stop.remove", None, "global: 79160001122")
    with pytest.raises(NotFoundError, match="79160001122 is not on that list"):
        await stops.remove(gw, OPERATOR, None, "79160001122")
    with pytest.raises(NotFoundError, match="no account 999"):
        await stops.add(gw, OPERATOR, 999, ["79160001122"])
