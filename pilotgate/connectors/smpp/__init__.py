"""The SMPP 3.4 connector (docs/smpp.md): `SmppConnector(SmppSettings.from_json(...))`."""

from __future__ import annotations

from ..schemas.smpp import SmppSettings
from . import policy, wire
from .link import SmppConnector

__all__ = ["SmppConnector", "SmppSettings", "policy", "wire"]
