"""Number checks from the config file (issue 6, item 1): `kind = "hlr"` connectors and
`hlr_unreliable = true` routes, applied at start by bootstrap on a real SQLite database."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pilotgate import bootstrap, config
from pilotgate.connectors.base import Accepted, Rejected
from pilotgate.connectors.hlr import HlrConnector
from pilotgate.connectors.relay import RelayConnector
from pilotgate.errors import ConfigError
from tests.unit.test_checks import NOW, _message


async def test_config_routes_flag_unreliable_hlr_and_add_hlr_connectors(tmp_path: Path) -> None:
    path = tmp_path / "pilotgate.toml"
    path.write_text(
        '[[connector]]\nname = "home"\nkind = "hlr"\nunserved_suffixes = "0"\n'
        '[[route]]\nprefix = "7916"\nchannel = "hlr"\nconnectors = ["home"]\n'
        "hlr_unreliable = true\n"
        '[[route]]\nprefix = "7903"\nchannel = "hlr"\nconnectors = "home"\n',
        encoding="utf-8",
    )
    settings = config.load({"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}, path)
    store = await bootstrap.open_store(settings)
    try:
        flags = {(r.prefix, r.channel): r.hlr_unreliable for r in await store.routes()}
        assert flags == {("", "all"): False, ("7916", "hlr"): True, ("7903", "hlr"): False}
        (home,) = [c for c in await store.connectors() if c.name == "home"]
        made = bootstrap.connector_factory(settings)(home)
        assert isinstance(made, HlrConnector)
        (answer,) = await made.submit([_message(7, "")], NOW)
        assert isinstance(answer, Accepted) and answer.details["net"] == "MTS"
        (refused,) = await made.submit([dataclasses.replace(_message(8, ""), channel="sms")], NOW)
        assert isinstance(refused, Rejected) and (refused.error, refused.final) == (213, True)
    finally:
        await store.close()


async def test_config_file_relay_connectors_keep_their_tables(tmp_path: Path) -> None:
    path = tmp_path / "pilotgate.toml"
    path.write_text(
        '[[connector]]\nname = "up"\nkind = "relay"\nurl = "https://smspilot.example"\n'
        'apikey = "K"\npoll_interval = 5\nsender_map = { SHOP = "SHOP2" }\n'
        '[[route]]\nprefix = "*"\nchannel = "viber"\nconnectors = ["up"]\n',
        encoding="utf-8",
    )
    settings = config.load({"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}, path)
    store = await bootstrap.open_store(settings)
    try:
        (up,) = [c for c in await store.connectors() if c.name == "up"]
        made = bootstrap.connector_factory(settings)(up)
        assert isinstance(made, RelayConnector)
        assert (dict(made.settings.sender_map), made.settings.poll_interval) == (
            {"SHOP": "SHOP2"},
            5,
        )
    finally:
        await store.close()


async def test_a_config_file_relay_that_could_not_start_stops_the_gateway(tmp_path: Path) -> None:
    path = tmp_path / "pilotgate.toml"
    path.write_text('[[connector]]\nname = "up"\nkind = "relay"\napikey = "K"\n', encoding="utf-8")
    settings = config.load({"PILOTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}, path)
    with pytest.raises(ConfigError, match="connector up: setting 'url' is missing"):
        await bootstrap.open_store(settings)
