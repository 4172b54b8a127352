"""SIP trunk connector: voice calls and flash calls (docs/sip.md)."""

from __future__ import annotations

from .link import SipConnector
from .settings import SipSettings

__all__ = ["SipConnector", "SipSettings"]
