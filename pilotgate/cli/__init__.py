"""The `pilotgate` command: the server and the operator's admin commands."""

from __future__ import annotations

# Each module registers its commands on `main` when imported.
from . import (  # noqa: F401
    accounts,
    backups,
    connectors,
    held,
    lists,
    numbering,
    numbers,
    operators,
    routes,
    server,
)
from .base import main

__all__ = ["main"]
