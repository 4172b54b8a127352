"""The settings of each connector kind: one frozen dataclass per kind, decoded and checked
once from the connector row's JSON (`SettingsSchema.from_json`). Plain data, no I/O but
the SIP caller pool file, so the CLI, the config file and the console share them; bootstrap
pairs each with the connector it builds (`bootstrap.KINDS`)."""

from __future__ import annotations

from .base import SettingsSchema
from .emulators import EmulatorSettings, HlrSettings
from .relay import RelaySettings
from .sip import SipSettings
from .smpp import SmppSettings

__all__ = [
    "EmulatorSettings",
    "HlrSettings",
    "RelaySettings",
    "SettingsSchema",
    "SipSettings",
    "SmppSettings",
]
