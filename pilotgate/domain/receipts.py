"""Delivery receipts as SMSCs send them (SMPP 3.4 Appendix B, §5.3.2.12/.35/.37).

A receipt says which message it is about (`receipted_message_id` TLV, or `id:` in the text),
its state (`message_state` TLV, or `stat:`) and sometimes why (`network_error_code`, `err:`).
SMSCs vary: 10- or 12-digit dates, `Text:` capitalised, `err:nul`, fields missing, ids in
hex in one place and decimal in the other. `parse` takes what is there and never raises;
`normalise_id` makes the id from submit_sm_resp and the one in the receipt compare equal.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .messages import Status

TAG_RECEIPTED_ID, TAG_MESSAGE_STATE, TAG_NETWORK_ERROR = 0x001E, 0x0427, 0x0423


class IdFormat(enum.StrEnum):
    TEXT = "text"  #: compare as text, case-blind, leading zeros ignored
    HEX = "hex"  #: a hexadecimal number
    DEC = "dec"  #: a decimal number


#: stat → (status, error). ACCEPTD and ENROUTE are not final: they carry no status.
STATES: dict[str, tuple[Status | None, int]] = {
    "DELIVRD": (Status.DELIVERED, 0),
    "EXPIRED": (Status.UNDELIVERED, 600),
    "UNDELIV": (Status.UNDELIVERED, 601),
    "UNKNOWN": (Status.UNDELIVERED, 602),
    "REJECTD": (Status.UNDELIVERED, 603),
    "DELETED": (Status.UNDELIVERED, 604),
    "ACCEPTD": (None, 0),
    "ENROUTE": (None, 0),
}
#: message_state TLV values (SMPP 3.4 §5.2.28) → stat words.
MESSAGE_STATES = {
    1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED",
    5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}  # fmt: skip

#: Spelled-out states some SMSCs send instead of the seven-letter words.
_ALIASES = {
    "DELIVERED": "DELIVRD", "UNDELIVERABLE": "UNDELIV", "REJECTED": "REJECTD",
    "ACCEPTED": "ACCEPTD", "EXPIRE": "EXPIRED",
}  # fmt: skip

_FIELD = re.compile(
    r"(id|sub|dlvrd|submit date|done date|stat|err|text)\s*:\s*(.*?)"
    r"(?=\s+(?:id|sub|dlvrd|submit date|done date|stat|err|text)\s*:|$)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A final delivery report for one part, as a connector read it and the store applies it:
    `remote_id` normalised by the connector's id rules so it matches what the hand-over
    recorded. One name from the link that reads it to the store (`ParsedReceipt` is what a
    receipt's text says, before it is known to be final)."""

    remote_id: str
    status: Status
    error: int = 0
    done_at: datetime | None = None
    #: Result fields of a number check, when the report carries them.
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedReceipt:
    """What one receipt says. `status` is None while the message is not final."""

    remote_id: str
    stat: str
    status: Status | None
    error: int
    network_error: str = ""
    done_at: datetime | None = None


def normalise_id(raw: str, id_format: IdFormat | str) -> str:
    """A canonical form of a message id: decimal for numeric formats, else lower-case text
    without leading zeros. An id that is not the number its format says stays text."""
    value = raw.strip().strip("\x00")
    try:
        if id_format == IdFormat.HEX:
            return str(int(value, 16))
        if id_format == IdFormat.DEC:
            return str(int(value, 10))
    except ValueError:
        pass
    return value.lower().lstrip("0") or ("0" if value else "")


def parse_date(value: str) -> datetime | None:
    """YYMMDDhhmm or YYMMDDhhmmss, read as UTC; anything else is None."""
    digits = value.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (10, 12):
        return None
    # By hand, not strptime: one per receipt, and strptime was a third of reading one.
    # The century as strptime's %y: 69-99 are 19xx, 00-68 are 20xx.
    year, month, day, hour, minute, second = (
        int(digits[i : i + 2]) if i < len(digits) else 0 for i in range(0, 12, 2)
    )
    year += 1900 if year >= 69 else 2000
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # month 13, minute 61 …
        return None


def fields_of(text: str) -> dict[str, str]:
    """The `key:value` fields of a receipt text, keys lower-cased."""
    return {key.lower(): value.strip() for key, value in _FIELD.findall(text)}


def looks_like_receipt(esm_class: int, text: str) -> bool:
    """esm_class bits 2-5 = 0001 (SMSC delivery receipt) or, for SMSCs that forget to set
    them, a text with both `id:` and `stat:`."""
    if (esm_class & 0x3C) == 0x04:
        return True
    if esm_class & 0x40:  # a user data header: an MO part, whatever its bytes look like
        return False
    lowered = text.lower()
    return "id:" in lowered and "stat:" in lowered


def parse(
    text: str, tlvs: Iterable[tuple[int, bytes]], id_format: IdFormat | str = IdFormat.TEXT
) -> ParsedReceipt | None:
    """A receipt from its TLVs and text (TLVs win where both say something); None when it
    names no message id."""
    fields = fields_of(text)
    options = dict(tlvs)
    raw_id = fields.get("id", "")
    if TAG_RECEIPTED_ID in options:
        raw_id = options[TAG_RECEIPTED_ID].rstrip(b"\x00").decode("latin-1")
    stat = fields.get("stat", "").upper().split(" ")[0]
    stat = _ALIASES.get(stat, stat)
    state = options.get(TAG_MESSAGE_STATE, b"")
    if len(state) == 1 and state[0] in MESSAGE_STATES:
        stat = MESSAGE_STATES[state[0]]
    network_error = fields.get("err", "")
    if TAG_NETWORK_ERROR in options:
        network_error = options[TAG_NETWORK_ERROR].hex()
    if not raw_id.strip():
        return None
    # A stat we do not know is no verdict: report it as not final rather than guess.
    status, error = STATES.get(stat, (None, 0))
    return ParsedReceipt(
        remote_id=normalise_id(raw_id, id_format),
        stat=stat,
        status=status,
        error=error,
        network_error="" if network_error.lower() in ("nul", "null") else network_error,
        done_at=parse_date(fields.get("done date", "")),
    )
