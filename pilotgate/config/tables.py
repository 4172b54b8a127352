"""The config file's `[[connector]]` and `[[route]]` tables, read into plain records that
bootstrap writes over the database's (bootstrap.apply_config_routing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilotgate.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorSpec:
    """A `[[connector]]` table of the config file."""

    name: str
    kind: str
    mps: int = 0
    #: The kind's settings as the file gives them (strings, numbers, booleans, tables).
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSpec:
    """A `[[route]]` table of the config file: prefix ("*" = all), channel, connectors."""

    prefix: str
    channel: str
    connectors: tuple[str, ...]
    #: `hlr_unreliable = true`: HLRVIP checks to these numbers also send a PING.
    hlr_unreliable: bool = False
    #: `operator = "MegaFon"`: only for the numbers the numbering plan says it serves.
    operator: str = ""


def tables(raw: Any, parse: Any, path: str | Path) -> tuple[Any, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"{path}: [[connector]] and [[route]] must be tables")
    try:
        return tuple(parse(item) for item in raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: malformed [[connector]] or [[route]]: {exc!r}") from None


def connector(item: dict[str, Any]) -> ConnectorSpec:
    extra = {k: v for k, v in item.items() if k not in ("name", "kind", "mps")}
    return ConnectorSpec(
        name=str(item["name"]),
        kind=str(item["kind"]),
        mps=int(item.get("mps", 0)),
        options=tuple(sorted((str(k), v) for k, v in extra.items())),
    )


def route(item: dict[str, Any]) -> RouteSpec:
    connectors = item["connectors"]
    if isinstance(connectors, str):
        connectors = connectors.split(",")
    return RouteSpec(
        prefix=str(item.get("prefix", "*")),
        channel=str(item.get("channel", "all")),
        connectors=tuple(str(name).strip() for name in connectors),
        hlr_unreliable=item.get("hlr_unreliable", False) is True,
        operator=str(item.get("operator", "")),
    )
