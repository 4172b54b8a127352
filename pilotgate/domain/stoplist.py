"""Who may not be sent to (contract §5.4): stop lists (212) and loop protection (243).

Both are per-recipient refusals: the draft of a refused phone becomes an error item (status
-2, price 0, error code), and the whole-request rule then decides as for any other error.
The caller reads what the database knows (listed phones, recent texts) in one query per send
and hands it here; nothing in this module does I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from .messages import Draft, Status

#: A phone on the account's or the global stop list.
BLACK_LIST = 212
#: The same text to the same phone within the account's loop window.
LOOP = 243

#: Inbound texts that put their sender on the account's stop list, unless configured.
DEFAULT_STOP_WORDS = "STOP,СТОП,STOPALL,UNSUBSCRIBE,ОТПИСАТЬСЯ"


def _fold(text: str) -> str:
    # casefold (not lower) so "Stop", "STOP" and "ſtop" match alike; Cyrillic folds too.
    return " ".join(text.split()).casefold()


def parse_words(setting: str) -> frozenset[str]:
    """The configured stop words (comma-separated), folded for comparison; blanks dropped."""
    return frozenset(_fold(word) for word in setting.split(",") if word.strip())


def is_stop_word(text: str, words: frozenset[str]) -> bool:
    """True when the whole inbound text, trimmed and case-insensitively, is a stop word:
    "stop " is one, "please don't stop" is not. Trailing punctuation ("STOP!") counts."""
    folded = _fold(text).strip(".!?,;:")
    return bool(folded) and folded in words


def screen(
    drafts: Sequence[Draft],
    stopped: Iterable[str],
    recent: Iterable[tuple[str, str]] = (),
    *,
    loop_protection: bool = False,
    within_request: bool = True,
) -> list[Draft]:
    """The drafts with refused recipients turned into errors: 212 for a phone in `stopped`,
    else 243 when `loop_protection` is on and the (phone, text) pair is in `recent` or,
    with `within_request`, already came earlier in these drafts (an API-2 packet may repeat
    one; an API-1 send never does, but its HLRVIP PING legs share their check's phone).
    Drafts that already failed keep their error."""
    listed = set(stopped)
    seen = set(recent) if loop_protection else set()
    screened: list[Draft] = []
    for draft in drafts:
        error = draft.error
        if not error:
            key = (draft.phone, draft.text)
            if draft.phone in listed:
                error = BLACK_LIST
            elif loop_protection and key in seen:
                error = LOOP
            elif loop_protection and within_request:
                seen.add(key)
        if error == draft.error:
            screened.append(draft)
        else:
            screened.append(
                dataclasses.replace(draft, status=Status.ERROR, error=error, price=0, route="")
            )
    return screened
