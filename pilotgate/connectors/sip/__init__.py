"""SIP trunk connector: voice calls and flash calls (docs/sip.md)."""

from __future__ import annotations
