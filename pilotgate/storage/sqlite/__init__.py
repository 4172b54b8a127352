"""SQLite store (the default). One connection, WAL journal, used from the event loop thread.

Why synchronous calls inside `async def`: every statement here is local and short (tens of
microseconds), so a thread hop would cost more than the work. Writers serialise on SQLite's
lock; `BEGIN IMMEDIATE` takes it at the start so a transaction never fails half-way on
upgrade. `synchronous=NORMAL` in WAL mode makes every commit survive a crash of the process
(kill -9); set `sqlite_synchronous = "FULL"` to also survive a power cut.
"""

from __future__ import annotations

from ..sql.accounts import SqlAccounts
from ..sql.audit import SqlAudit
from ..sql.cancels import SqlCancels
from ..sql.held import SqlHeld
from ..sql.idempotency import SqlIdempotency
from ..sql.links import SqlLinks
from ..sql.lists import SqlLists
from ..sql.numbering import SqlNumbering
from ..sql.protections import SqlProtections
from ..sql.queue import SqlQueue
from ..sql.rates import SqlRates
from ..sql.replaces import SqlReplaces
from ..sql.retention import SqlRetention
from ..sql.schema import SqlSchema
from ..sql.smpp import SqlSmpp
from ..sql.smpp_deliveries import SqlSmppDeliveries
from ..sql.usage import SqlUsage
from .callbacks import SqliteCallbacks
from .dashboard import SqliteDashboard
from .messages import SqliteMessages
from .two_way import SqliteTwoWay


class SqliteStore(
    SqlAccounts,
    SqliteMessages,
    SqlQueue,
    SqlLinks,
    SqliteCallbacks,
    SqlLists,
    SqliteTwoWay,
    SqliteDashboard,
    SqlAudit,
    SqlSmpp,
    SqlSmppDeliveries,
    SqlSchema,
    SqlNumbering,
    SqlIdempotency,
    SqlProtections,
    SqlRates,
    SqlUsage,
    SqlRetention,
    SqlCancels,
    SqlReplaces,
    SqlHeld,
):
    """The whole `Store` for this database, assembled from its parts."""


__all__ = ["SqliteStore"]
