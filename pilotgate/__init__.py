"""PilotGate: a self-hosted SMS gateway that speaks the SMSPILOT.RU HTTP API."""

from __future__ import annotations

__version__ = "0.3.0.dev0"
