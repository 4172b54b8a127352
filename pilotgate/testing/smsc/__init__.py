"""A simulated SMSC for tests, benches and `pilotgate smsc-sim` (see `server`)."""

from __future__ import annotations

from .behaviour import Behaviour
from .codec import SubmitSm
from .server import SmscSimulator

__all__ = ["Behaviour", "SmscSimulator", "SubmitSm"]
