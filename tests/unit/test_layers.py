"""The import-linter contracts stay whole as packages are added (scripts/check runs them)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: What the pipeline may use of `pilotgate.connectors`: the protocol, the sockets that
#: only go where the address policy allows, and the kinds' settings schemas (plain data the
#: CLI, the config file and the console check settings with). Everything else there is a
#: connector kind.
SHARED = {"__init__", "base", "outbound", "outbound_http", "schemas"}


def _contract(name: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    return dict(contract)


def test_only_bootstrap_names_any_connector_kind():
    folder = ROOT / "pilotgate" / "connectors"
    kinds = {
        f"pilotgate.connectors.{path.stem}"
        for path in folder.iterdir()
        if path.stem not in SHARED and (path.suffix == ".py" or (path / "__init__.py").is_file())
    }
    assert kinds >= {
        "pilotgate.connectors.emulator",
        "pilotgate.connectors.smpp",
        "pilotgate.connectors.sip",
        "pilotgate.connectors.relay",
        "pilotgate.connectors.hlr",
    }
    forbidden = set(_contract("Only bootstrap names concrete adapters")["forbidden_modules"])
    assert kinds <= forbidden, f"not in the contract: {sorted(kinds - forbidden)}"


def test_the_api_and_the_dashboard_never_reach_into_the_store():
    # Every page and command goes through a use case (pilotgate/operations/) or a Gateway
    # method: that is where the rules are applied and each change is audited.
    folder = ROOT / "pilotgate" / "api"
    reaches = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(folder.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "gateway.store" in line or ".store." in line
    ]
    assert reaches == []
