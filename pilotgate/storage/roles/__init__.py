"""The store's roles: what each part of the gateway needs from storage, in domain terms.

A caller depends on the role it uses (the pipeline's callback worker on `CallbackStore`, the
console on `OperatorStore`...); `Store` is all of them, what each database implements once
(storage/sql/ over a dialect's driver). Every method is one transaction; implementations
translate their driver's exceptions into `pilotgate.errors.StorageError` (and its
subclasses) at the driver, once.
"""

from __future__ import annotations

from typing import Protocol

from ..audit import AuditStore
from ..dashboard import DashboardReads, OperatorStore
from ..smpp import SmppDeliveryStore, SmppStore
from .accounts import AccountStore, ListStore, NumberingStore, SchemaStore
from .delivery import CallbackStore, LinkStore, TwoWayStore
from .messages import MessageStore, OutboxStore
from .protections import HeldStore, IdempotencyStore, ProtectionStore, RateStore, RetentionStore

__all__ = [
    "AccountStore",
    "AuditStore",
    "CallbackStore",
    "DashboardReads",
    "HeldStore",
    "IdempotencyStore",
    "LinkStore",
    "ListStore",
    "MessageStore",
    "NumberingStore",
    "OperatorStore",
    "OutboxStore",
    "ProtectionStore",
    "RateStore",
    "RetentionStore",
    "SchemaStore",
    "SmppDeliveryStore",
    "SmppStore",
    "Store",
    "TwoWayStore",
]


class Store(
    AccountStore,
    HeldStore,
    IdempotencyStore,
    ProtectionStore,
    RateStore,
    MessageStore,
    OutboxStore,
    LinkStore,
    CallbackStore,
    ListStore,
    TwoWayStore,
    OperatorStore,
    DashboardReads,
    AuditStore,
    SmppStore,
    SmppDeliveryStore,
    SchemaStore,
    NumberingStore,
    RetentionStore,
    Protocol,
):
    """Persistence for PilotGate: every role. One implementation, two drivers."""

    async def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""

    async def close(self) -> None: ...
