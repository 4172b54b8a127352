"""The HTTP relay connector (kind `relay`): another SMSPILOT-compatible gateway as the next
hop. `link` moves the messages, `answers` reads the upstream, `settings` checks the row."""

from __future__ import annotations

from .answers import (
    PERMANENT,
    UNHEALTHY,
    classify,
    parse_check,
    parse_inbound,
    parse_send,
    parse_send_many,
    receipt_of,
    remaining_ttl,
)
from .link import RelayConnector
from .settings import RelaySettings

__all__ = [
    "PERMANENT",
    "UNHEALTHY",
    "RelayConnector",
    "RelaySettings",
    "classify",
    "parse_check",
    "parse_inbound",
    "parse_send",
    "parse_send_many",
    "receipt_of",
    "remaining_ttl",
]
