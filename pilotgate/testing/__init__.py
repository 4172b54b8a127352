"""Test doubles shipped with PilotGate for exercising it against real network peers."""

from __future__ import annotations
