"""Accounts and API keys."""

from __future__ import annotations

import enum
import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

KEY_LENGTH = 64
_KEY_ALPHABET = string.ascii_letters + string.digits


class AccountState(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED_BALANCE = "blocked_balance"  #: error 105
    BLOCKED_SPAM = "blocked_spam"  #: error 106
    BLOCKED_UNTRUSTED = "blocked_untrusted"  #: error 107


BLOCK_CODES: dict[AccountState, int] = {
    AccountState.BLOCKED_BALANCE: 105,
    AccountState.BLOCKED_SPAM: 106,
    AccountState.BLOCKED_UNTRUSTED: 107,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    id: int  # the contract number
    email: str
    password_hash: str
    name: str
    phone: str
    tariff_id: int
    default_sender: str
    any_sender: bool
    allow_ip: str
    state: AccountState
    referrer_id: int | None
    balance: int  # kopecks, maintained in the same transaction as the ledger
    created: datetime
    status_url: str = ""  # default status callback (contract §8)
    status_method: str = "get"
    inbound_url: str = ""  # where inbound SMS are pushed (contract §10)
    callback_secret: str = ""  # HMAC key of X-PilotGate-Signature
    #: Loop protection (243) window in seconds; None = the gateway's default.
    loop_window: int | None = None


def new_api_key() -> str:
    """64 random letters and digits (about 380 bits)."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(KEY_LENGTH))


def is_key_shaped(key: str) -> bool:
    """Our keys are exactly 64 ASCII letters and digits; anything else is error 101."""
    return len(key) == KEY_LENGTH and key.isascii() and key.isalnum()


def key_digest(key: str) -> str:
    """What the database stores instead of the key. A plain SHA-256 is enough: the key is
    random and long, so a leaked digest cannot be brute-forced back to it."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()
