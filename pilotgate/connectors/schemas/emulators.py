"""The settings of the emulated kinds, `emulator` and `hlr`: operators that live inside the
gateway (connectors/emulator.py, connectors/hlr.py). Their `delay` defaults to the
gateway's `emulator_delay`."""

from __future__ import annotations

from dataclasses import dataclass

from .base import SettingsSchema


def _suffix_problem(settings: object, *keys: str) -> str:
    """Suffixes are final digits, optionally separated by commas or spaces ("0", "1,2")."""
    for key in keys:
        if not all(c.isdigit() or c in ", " for c in getattr(settings, key)):
            return f"setting {key!r} must be digits (final digits of phone numbers)"
    return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorSettings(SettingsSchema):
    """Example `settings` JSON (every setting optional)::

    {"delay": 0.5, "fail_suffixes": "0", "no_viber_suffixes": "9"}
    """

    name: str
    delay: float = 1.0  #: seconds from hand-over to the outcome
    fail_suffixes: str = ""  #: numbers ending in one of these digits are not delivered (601)
    no_viber_suffixes: str = ""  #: numbers ending in one of these have no Viber (605)

    def problem(self) -> str:
        if self.delay < 0:
            return "setting 'delay' must be 0 or more"
        return _suffix_problem(self, "fail_suffixes", "no_viber_suffixes")


@dataclass(frozen=True, slots=True, kw_only=True)
class HlrSettings(SettingsSchema):
    """Example `settings` JSON (every setting optional)::

    {"delay": 1.0, "unserved_suffixes": "0", "offline_suffixes": "9"}
    """

    name: str
    delay: float = 1.0  #: seconds from hand-over to the answer
    unserved_suffixes: str = ""  #: numbers ending in one of these digits are not served (HLR)
    offline_suffixes: str = ""  #: numbers ending in one of these digits are offline (PING)

    def problem(self) -> str:
        if self.delay < 0:
            return "setting 'delay' must be 0 or more"
        return _suffix_problem(self, "unserved_suffixes", "offline_suffixes")
