"""The store's roles: what each part of the gateway needs from storage, in domain terms.

A caller depends on the role it uses (the pipeline's callback worker on `CallbackStore`, the
console's password checks on `OperatorStore`...); `Store` is all of them. There is one
implementation, so each role is the class that implements it (storage/sql/, over a dialect's
driver), re-exported here: the callers above storage import the roles from this module only
(pyproject.toml's contracts), never storage.sql itself (docs/decisions.md "The role is the
class").

Each role is written once, so its signatures and their docstrings exist once. The few methods
whose statements differ by database are abstract in their role (`MessageStore._flush_soon`,
`DashboardReads.fold_statistics`/`daily_stats`, `NumberingStore._load_ported`,
`RetentionStore.rotate_partitions`): each dialect's store (sqlite/__init__.py,
postgres/__init__.py) implements them or puts its own parts before `Store`, and one it forgot
cannot be built (abc refuses it, mypy says which)."""

from __future__ import annotations

from .sql.accounts import AccountStore
from .sql.audit import AuditStore
from .sql.callbacks import CallbackStore
from .sql.core import SchemaStore
from .sql.dashboard import DashboardReads
from .sql.held import HeldStore
from .sql.idempotency import IdempotencyStore
from .sql.links import LinkStore
from .sql.lists import ListStore
from .sql.messages import MessageStore
from .sql.numbering import NumberingStore
from .sql.operators import OperatorStore
from .sql.protections import ProtectionStore
from .sql.queue import OutboxStore
from .sql.rates import RateStore
from .sql.retention import RetentionStore
from .sql.smpp import SmppStore
from .sql.smpp_deliveries import SmppDeliveryStore
from .sql.two_way import TwoWayStore


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
):
    """Persistence for PilotGate: every role. One implementation, two drivers; what
    bootstrap builds (`SqliteStore`, `PostgresStore`) and what a caller that needs more
    than one role names. Every method is one transaction; the drivers translate their
    exceptions into `pilotgate.errors.StorageError` (and its subclasses), once."""


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
