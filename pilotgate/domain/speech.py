"""What a voice call says and in which voice (contract §13.2), decided before any synthesis.

`GOLOS` speaks with a female voice, `GOLOSM` with a male one; a text with any Cyrillic
letter is Russian, any other English. How long the speech lasts is estimated from the
text's length at send time (a text clearly too long is refused with 221 then, for free),
and measured again on the synthesized audio before the call is made.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

#: Characters spoken per second, a little above what espeak-ng does at its default rate
#: (measured: 14.5/s in Russian, 16/s in English), so the estimate errs on the short side
#: and only texts that are surely too long are refused before synthesis.
CHARS_PER_SECOND = 17.0
#: Senders that speak, and with which voice.
FEMALE, MALE = "GOLOS", "GOLOSM"


class Gender(enum.StrEnum):
    FEMALE = "f"
    MALE = "m"


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    language: str  #: "ru" or "en"
    gender: Gender


def is_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


def voice_for(sender: str, text: str) -> Voice:
    """The voice of a GOLOS (female) or GOLOSM (male) message; language from the text."""
    gender = Gender.MALE if sender.upper() == MALE else Gender.FEMALE
    return Voice(language="ru" if is_cyrillic(text) else "en", gender=gender)


def estimated_seconds(text: str) -> float:
    """A cheap lower estimate of how long `text` takes to say."""
    return len(" ".join(text.split())) / CHARS_PER_SECOND


def too_long(text: str, max_seconds: float) -> bool:
    """True when the text surely takes more than `max_seconds` to say (error 221)."""
    return estimated_seconds(text) > max_seconds


def cache_key(text: str, voice: Voice, engine: str) -> str:
    """A file name for the rendered speech of `text` in `voice` by `engine` (its version)."""
    digest = hashlib.sha256(
        "\x00".join((engine, voice.language, voice.gender.value, text)).encode("utf-8")
    )
    return digest.hexdigest()
