"""Sender names (contract §5.3, §11): a phone number of 6..14 digits, or a name of 3..11
characters from A-Za-z0-9.- (and, our decision, Cyrillic letters)."""

from __future__ import annotations

import enum
import re

_NAME = re.compile(r"[A-Za-z0-9.\-А-Яа-яЁё]{3,11}")
_NUMBER = re.compile(r"[0-9]{6,14}")  # ASCII only: \d would admit Arabic-Indic digits
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class SenderState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def is_valid(sender: str) -> bool:
    """True if `sender` has the form of a sender name or number."""
    return bool(_NUMBER.fullmatch(sender) or (_NAME.fullmatch(sender) and not sender.isdigit()))


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and len(value) <= 254
