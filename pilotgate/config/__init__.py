"""Settings: one typed, frozen object, read once at startup from an optional TOML file and
`PILOTGATE_*` environment variables (the environment wins). Nothing else reads either.

    PILOTGATE_DATABASE_URL=postgresql://user@host/db pilotgate serve
    pilotgate --config /etc/pilotgate.toml serve
"""

from __future__ import annotations

from pilotgate.config.loading import PREFIX, load, replace
from pilotgate.config.settings import Settings
from pilotgate.config.tables import ConnectorSpec, RouteSpec

__all__ = ["PREFIX", "ConnectorSpec", "RouteSpec", "Settings", "load", "replace"]
