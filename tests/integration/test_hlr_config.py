"""Number checks from the config file (issue 6, item 1): `kind = "hlr"` connectors and
`hlr_unreliable = true` routes, applied at start by bootstrap on a real SQLite database."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pilotgate import bootstrap, config
from pilotgate.connectors.base import Accepted, Rejected
from pilotgate.connectors.hlr import HlrConnector
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
