"""The `pilotgate` command: the server and the operator's admin commands."""

from __future__ import annotations

# Each module registers its commands on `main` when imported.
from . import (  # noqa: F401
    account_settings,
    accounts,
    backups,
    connectors,
    held,
    lists,
    numbering,
    numbers,
    operators,
    routes,
    senders,
    server,
    tariffs,
)
from .base import main

__all__ = ["main"]
