"""The `pilotgate` command: the server and the operator's admin commands."""

from __future__ import annotations

# Each module registers its commands on `main` when imported.
from . import accounts, connectors, lists, numbering, numbers, operators, routes, server  # noqa: F401
from .base import main

__all__ = ["main"]
