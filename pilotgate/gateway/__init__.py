"""The use cases of PilotGate, shared by every API (API-1, API-2, SMPP, the dashboard):
authenticate, send, check, cancel, replace, balance, info, inbound, sender names, referrers,
dashboard logins.

Each raises `ApiError` with the catalogue code for an outcome the caller should see; the API
layer renders it. Nothing here knows about HTTP or SQL.
"""

from __future__ import annotations

from .binding import Binding
from .cancelling import Cancelling
from .core import (
    VOICE_MAX_CHARS,
    CallbackCheck,
    Credentials,
    GatewayPolicy,
    PacketResult,
    SendRequest,
    SendResult,
)
from .logins import Logins
from .passwords import PasswordOutcome, Passwords, PasswordSettings
from .queries import Queries
from .rates import Pacing
from .relaying import Relaying
from .replacing import Replacing
from .retries import Retries
from .sending import Sending
from .smpp_deliveries import SmppDeliveries
from .statements import AccountStatements


class Gateway(
    Replacing,
    Sending,
    Queries,
    Cancelling,
    Relaying,
    AccountStatements,
    Binding,
    SmppDeliveries,
    Logins,
    Retries,
    Pacing,
):
    """Every use case, for the API and the CLI."""


__all__ = [
    "VOICE_MAX_CHARS",
    "CallbackCheck",
    "Credentials",
    "Gateway",
    "GatewayPolicy",
    "PacketResult",
    "PasswordOutcome",
    "PasswordSettings",
    "Passwords",
    "SendRequest",
    "SendResult",
]
