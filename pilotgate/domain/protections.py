"""What an account may send (issue 16): the countries it may send to (error 213 outside
them), its stop words (247 "Filter"), the CyrLat filter (248): a word that mixes Cyrillic
and Latin letters, as a look-alike link or brand does; and its message caps (223,
domain/limits.py).

Stop words are literal words or phrases, matched whole-word and without case: no
operator-typed pattern reaches a regular-expression engine, so no text can make a check
take more than linear time (docs/decisions.md, "Geo permissions and content filters").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .messages import Draft, Status

#: The country set that allows every destination.
ANYWHERE = "*"
FILTER = 247
CYRLAT = 248
#: Stop words an account may have, and characters one may be.
MAX_STOP_WORDS = 1000
MAX_WORD_CHARS = 100

#: Our own pattern (never an operator's): runs of letters and digits, linear in the text.
_WORD = re.compile(r"\w+")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Protections:
    """One account's settings. `countries` None: the operator's default set."""

    countries: frozenset[str] | None = None
    stop_words: tuple[str, ...] = ()
    cyrlat: bool = False
    #: Messages per UTC day and month (domain/limits.py); None = the operator's default,
    #: 0 = no cap.
    day_cap: int | None = None
    month_cap: int | None = None


DEFAULTS = Protections()


def parse_countries(raw: str) -> frozenset[str]:
    """ "ru, kz" → {"RU", "KZ"}; "*" allows every country. Raises ValueError naming the
    first code that is not two letters."""
    codes = frozenset(part.strip().upper() for part in raw.split(",") if part.strip())
    for code in sorted(codes):
        if code != ANYWHERE and not (_COUNTRY.fullmatch(code) and code.isascii()):
            raise ValueError(f"not an ISO 3166 country code: {code!r}")
    return codes


def parse_cap(raw: str) -> int | None:
    """ "default" or "" → None (the operator's), else a count of messages (0 = no cap).
    Raises ValueError."""
    raw = raw.strip().lower()
    if raw in ("", "default"):
        return None
    if not (raw.isdigit() and raw.isascii()) or len(raw) > 12:
        raise ValueError(f"not a number of messages: {raw!r}")
    return int(raw)


def show_countries(codes: Iterable[str]) -> str:
    return ",".join(sorted(codes))


def parse_stop_words(raw: str) -> tuple[str, ...]:
    """One word or phrase per line (or comma); kept in lower case with single spaces.
    Raises ValueError for too many or too long ones."""
    words: dict[str, None] = {}
    for line in re.split(r"[\n,]", raw):
        word = " ".join(_WORD.findall(line.casefold()))
        if word:
            if len(word) > MAX_WORD_CHARS:
                raise ValueError(f"a stop word is at most {MAX_WORD_CHARS} characters")
            words[word] = None
    if len(words) > MAX_STOP_WORDS:
        raise ValueError(f"at most {MAX_STOP_WORDS} stop words")
    return tuple(words)


def allows(countries: frozenset[str], country: str) -> bool:
    return ANYWHERE in countries or country.upper() in countries


def geo_screen(drafts: Sequence[Draft], countries: frozenset[str]) -> list[Draft]:
    """Drafts to a country outside `countries` fail with 213, unpriced (contract §17.2)."""
    if ANYWHERE in countries:
        return list(drafts)
    return [
        d
        if d.error or d.country.upper() in countries
        else dataclasses.replace(d, status=Status.ERROR, error=213, price=0, route="")
        for d in drafts
    ]


def content_error(text: str, protections: Protections) -> int:
    """247 when the text holds a stop word, 248 when (the filter on) a word mixes
    Cyrillic and Latin letters, else 0."""
    if not protections.stop_words and not protections.cyrlat:
        return 0
    words = _WORD.findall(text.casefold())
    if protections.stop_words:
        # Padded with spaces, so a phrase matches whole words only.
        joined = f" {' '.join(words)} "
        if any(f" {word} " in joined for word in protections.stop_words):
            return FILTER
    if protections.cyrlat and any(_mixed(word) for word in words):
        return CYRLAT
    return 0


def _mixed(word: str) -> bool:
    latin = cyrillic = False
    for char in word:
        if "a" <= char <= "z":
            latin = True
        elif "\u0400" <= char <= "\u04ff":
            cyrillic = True
        if latin and cyrillic:
            return True
    return False
