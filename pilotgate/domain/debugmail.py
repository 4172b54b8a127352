"""Debug mail (contract §14): `debug=<e-mail>` asks for a copy of the request and its answer.

Pure rules only: which addresses are acceptable, what is masked, what the mail says and how
often an account may have one. `pipeline/debugmail.py` sends it.

The address comes from an anonymous parameter and becomes a mail header and an SMTP
recipient, so it is accepted only when it is exactly one plain `local@domain` address of
printable ASCII: no display name, no comments, no quotes, no list, no CR/LF or any other
control or space character. Anything else is ignored (the API answer never changes).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

#: dot-atom local part and a hostname of LDH labels with at least one dot (RFC 5321, the
#: subset real mailboxes use).
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
#: Parameters whose values never leave the gateway in a debug mail.
SECRETS = frozenset({"apikey", "password", "api_key", "key", "secret", "token"})
MASK = "********"


def address(raw: str | None) -> str | None:
    """The mailbox `raw` names, or None when it is not exactly one plain address."""
    if raw is None:
        return None
    value = raw.strip(" ")
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        return None
    local = value.split("@", 1)[0]
    return value if len(local) <= 64 else None


def masked(values: Mapping[str, str]) -> list[tuple[str, str]]:
    """The request's parameters in order, secrets replaced by a mask."""
    return [(name, MASK if name.lower() in SECRETS else value) for name, value in values.items()]


def compose(
    *,
    sender: str,
    to: str,
    account_id: int,
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    answer: str,
    content_type: str,
    now: datetime,
) -> EmailMessage:
    """The mail: the request (parameters already masked) and the answer, as plain text.
    Header values are fixed strings, ids and an address `address()` accepted; the request's
    own text travels only in the body."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"PilotGate API debug: {method} {path} (account {account_id})"
    message["Date"] = format_datetime(now)
    lines = [f"{method} {path}", ""]
    lines += [f"{name} = {value}" for name, value in params]
    lines += ["", f"Response ({content_type}):", "", answer]
    message.set_content("\n".join(lines), charset="utf-8")
    return message


class RateWindow:
    """At most `limit` events per key within a sliding `window` (one process's view)."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[datetime]] = {}

    def allow(self, key: int, now: datetime) -> bool:
        """Record an event for `key` at `now` and say whether it is within the limit."""
        if self.limit <= 0:
            return False
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle keys so memory stays bounded
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < self.window}
        return True
