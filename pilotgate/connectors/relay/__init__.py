"""The HTTP relay connector (kind `relay`): another SMSPILOT-compatible gateway as the next
hop. `link` moves the messages, `answers` reads the upstream; its settings are `schemas.relay`."""

from __future__ import annotations

from ..schemas.relay import RelaySettings
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
