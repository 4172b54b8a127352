"""The rules an account's details are held to, whoever types them: `pilotgate account create`
and `account set`, or the console's forms (both go through `pilotgate.operations.accounts`).

Each function returns the value in the one form the database keeps, or raises ValueError with
what is wrong; the operations layer names the field.
"""

from __future__ import annotations

from . import money, passwords, phones, senders

#: Longest customer name kept; a longer one is cut, not refused (it is only a label).
NAME_LENGTH = 200


def email(raw: str) -> str:
    """Trimmed and lower-cased. Logins are found without regard to case, so two spellings of
    one address must not become two accounts, and the console shows one form of each."""
    value = raw.strip().lower()
    if not senders.is_email(value):
        raise ValueError("not an e-mail address")
    return value


def password(raw: str) -> str:
    """The one password policy (domain.passwords): 8 to 1024 characters, kept as typed."""
    problem = passwords.problem(raw)
    if problem:
        raise ValueError(problem)
    return raw


def contact_phone(raw: str) -> str:
    """International digits without "+" (phones.clean: "+7 (916) 123-45-67" and
    "8 916 123-45-67" both become "79161234567"); empty stays empty. The contact phone's
    country is the account's home for balance=sms, so it must at least be digits."""
    if not raw.strip():
        return ""
    value = phones.clean(raw)
    if not (value.isascii() and value.isdigit() and 5 <= len(value) <= 15):
        raise ValueError("not a phone number")
    return value


def name(raw: str) -> str:
    return raw.strip()[:NAME_LENGTH]


def default_sender(raw: str) -> str:
    """The sender used when a request names none; empty means the gateway's default."""
    value = raw.strip()
    if value and not senders.is_valid(value):
        raise ValueError("not a sender name (3-11 letters, digits, '.', '-', or a number)")
    return value


def opening_balance(raw: str) -> int:
    """Kopecks of opening credit ("1000.00"); never negative: a new account owes nothing."""
    value = money.parse(raw.strip() or "0")
    if value < 0:
        raise ValueError("an opening balance is not negative")
    return value
