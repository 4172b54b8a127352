"""Special senders switch the channel (contract §5.3), and each channel prices from its own
tariff column."""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    SMS = "sms"
    VIBER = "viber"
    VOICE = "voice"
    FLASHCALL = "flashcall"
    HLR = "hlr"
    PING = "ping"


#: `from=` values that select a channel instead of naming the displayed sender.
SPECIAL_SENDERS: dict[str, Channel] = {
    "GOLOS": Channel.VOICE,
    "GOLOSM": Channel.VOICE,
    "VIBER": Channel.VIBER,
    "VIBERSMS": Channel.VIBER,
    "PING": Channel.PING,
    "HLR": Channel.HLR,
    "HLRVIP": Channel.HLR,
    "2WAY": Channel.SMS,
    "FLASHCALL": Channel.FLASHCALL,
}

#: `send=` texts that are number checks rather than messages.
CHECK_TEXTS: dict[str, Channel] = {"HLR": Channel.HLR, "HLRVIP": Channel.HLR, "PING": Channel.PING}

VIBER_MAX_CHARS = 1000
