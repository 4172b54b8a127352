from __future__ import annotations

from pathlib import Path

import pytest

from pilotgate import config
from pilotgate.errors import ConfigError


def test_environment_wins_over_the_file_and_values_are_typed(tmp_path: Path):
    path = tmp_path / "pilotgate.toml"
    path.write_text("port = 9000\nmax_parts = 5\npipeline = false\n", encoding="utf-8")
    settings = config.load({"PILOTGATE_PORT": "9100"}, path)
    assert (settings.port, settings.max_parts, settings.pipeline) == (9100, 5, False)


def test_connectors_and_routes_come_from_tables(tmp_path: Path):
    path = tmp_path / "pilotgate.toml"
    path.write_text(
        '[[connector]]\nname = "backup"\nkind = "emulator"\nmps = 50\ndelay = 0.5\n'
        '[[route]]\nprefix = "7916"\nchannel = "sms"\nconnectors = ["emulator", "backup"]\n'
        '[[route]]\nconnectors = "backup"\n',
        encoding="utf-8",
    )
    settings = config.load({}, path)
    assert settings.connectors == (
        config.ConnectorSpec(name="backup", kind="emulator", mps=50, options=(("delay", 0.5),)),
    )
    assert settings.routes == (
        config.RouteSpec(prefix="7916", channel="sms", connectors=("emulator", "backup")),
        config.RouteSpec(prefix="*", channel="all", connectors=("backup",)),
    )


@pytest.mark.parametrize(
    "text",
    ["nonsense = 1\n", "port = 'x'\n", "[[route]]\nprefix = '7'\n", "route = 5\n", "port = \n"],
)
def test_bad_files_fail_at_startup_with_a_reason(tmp_path: Path, text: str):
    path = tmp_path / "pilotgate.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        config.load({}, path)


def test_a_malformed_environment_value_names_the_setting():
    with pytest.raises(ConfigError, match="max_parts"):
        config.load({"PILOTGATE_MAX_PARTS": "many"})
