"""SIP trunk connector: voice calls and flash calls (docs/sip.md)."""

from __future__ import annotations

from ..schemas.sip import SipSettings
from .link import SipConnector

__all__ = ["SipConnector", "SipSettings"]
