"""SMPP 3.4 for customers' systems: binds checked by the gateway's one password check,
submit_sm sent by the gateway's `send` (the same rules as API-1). Like API-1 and API-2 it
calls the gateway and never the store (docs/smpp.md "PilotGate as an SMSC")."""

from __future__ import annotations

from .deliveries import DeliverySettings
from .server import SmppServer
from .settings import SmppServerSettings

__all__ = ["DeliverySettings", "SmppServer", "SmppServerSettings"]
