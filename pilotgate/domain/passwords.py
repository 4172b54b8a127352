"""The one password rule, for every place a password is set: `account create`, `operator add`,
the console's new-account form and the password-change forms of cabinet and console.

Long enough to resist guessing through the lockout, short enough that hashing it stays cheap;
no composition rules (they make passwords harder to remember, not harder to guess).
"""

from __future__ import annotations

MIN_LENGTH = 8
#: The cabinet's login form reads at most this many characters of a password.
MAX_LENGTH = 1024


def problem(password: str) -> str | None:
    """What is wrong with `password` as a new password, or None when it may be used."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    return None
