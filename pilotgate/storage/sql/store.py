"""`Store`: every role of the store (storage/roles.py), each written once in this package.

Each role is the class that implements it, so its signatures and their docstrings exist once.
The few methods whose statements differ by database are abstract in their role
(`MessageStore._flush_soon`, `DashboardReads.fold_statistics`/`daily_stats`,
`NumberingStore._load_ported`, `RetentionStore.rotate_partitions`): each dialect's store
(sqlite/__init__.py, postgres/__init__.py) puts its own parts before this class, and one it
forgot cannot be built (abc refuses it, mypy says which)."""

from __future__ import annotations

from .accounts import AccountStore
from .audit import AuditStore
from .callbacks import CallbackStore
from .dashboard import DashboardReads
from .held import HeldStore
from .idempotency import IdempotencyStore
from .links import LinkStore
from .lists import ListStore
from .messages import MessageStore
from .numbering import NumberingStore
from .operators import OperatorStore
from .protections import ProtectionStore
from .queue import OutboxStore
from .rates import RateStore
from .retention import RetentionStore
from .schema import SchemaStore
from .smpp import SmppStore
from .smpp_deliveries import SmppDeliveryStore
from .two_way import TwoWayStore


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
