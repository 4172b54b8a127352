"""The parts of the store both databases take as they are; each dialect's store
(sqlite/__init__.py, postgres/__init__.py) puts its own parts before these."""

from __future__ import annotations

from .accounts import SqlAccounts
from .audit import SqlAudit
from .callbacks import SqlCallbacks
from .cancels import SqlCancels
from .held import SqlHeld
from .idempotency import SqlIdempotency
from .links import SqlLinks
from .lists import SqlLists
from .protections import SqlProtections
from .queue import SqlQueue
from .rates import SqlRates
from .replaces import SqlReplaces
from .retention import SqlRetention
from .schema import SqlSchema
from .smpp import SqlSmpp
from .smpp_deliveries import SqlSmppDeliveries
from .two_way import SqlTwoWay
from .usage import SqlUsage


class SqlStore(
    SqlAccounts,
    SqlQueue,
    SqlCallbacks,
    SqlLists,
    SqlTwoWay,
    SqlLinks,
    SqlAudit,
    SqlSmpp,
    SqlSmppDeliveries,
    SqlSchema,
    SqlIdempotency,
    SqlProtections,
    SqlRates,
    SqlUsage,
    SqlRetention,
    SqlCancels,
    SqlReplaces,
    SqlHeld,
):
    """Everything written once, as one base."""
