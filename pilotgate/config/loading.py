"""Settings read once at startup from an optional TOML file and `PILOTGATE_*` environment
variables (the environment wins). Nothing else reads either."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from pilotgate.config.settings import Settings
from pilotgate.config.tables import connector, route, tables
from pilotgate.errors import ConfigError

PREFIX = "PILOTGATE_"


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    try:
        if kind in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return text in ("1", "true", "yes", "on")
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if isinstance(raw, list):  # a TOML list for a comma-separated setting
            return ",".join(str(item) for item in raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r} has a malformed value: {raw!r}") from None


def load(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> Settings:
    """Build Settings from the TOML file at `path` (or $PILOTGATE_CONFIG) and `environ`."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(PREFIX + "CONFIG")
    values: dict[str, Any] = {}
    known = {field.name: field.type for field in fields(Settings)}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        values["connectors"] = tables(data.pop("connector", []), connector, path)
        values["routes"] = tables(data.pop("route", []), route, path)
        for key, raw in data.items():
            if key not in known or key in ("connectors", "routes"):
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = _coerce(key, known[key], raw)
    for key, kind in known.items():
        raw = environ.get(PREFIX + key.upper())
        if raw is not None:
            values[key] = _coerce(key, kind, raw)
    return Settings(**values)


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of `settings` with some values changed (CLI flags)."""
    return dataclasses.replace(settings, **changes)
