"""The SMPP server's settings, one value for every session of a process (bootstrap.py reads
them from `config.Settings`; docs/smpp.md "PilotGate as an SMSC")."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..proxies import Network
from .deliveries import DeliverySettings
from .limits import LimitSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppServerSettings:
    max_pdu: int = 16_384
    enquire_seconds: float = 30.0
    dead_seconds: float = 90.0
    bind_seconds: float = 10.0
    window: int = 100
    #: Seconds the first parts of a long message wait for the rest.
    part_wait: float = 60.0
    write_buffer: int = 1024 * 1024
    limits: LimitSettings = field(default_factory=LimitSettings)
    #: Receipts and inbound SMS to receiving binds (api/smpp/deliveries.py).
    deliveries: DeliverySettings = field(default_factory=DeliverySettings)
    #: Peers whose connections start with a PROXY header (`smpp_proxies`).
    proxies: tuple[Network, ...] = ()
