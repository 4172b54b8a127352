"""PostgreSQL store: psycopg 3 with an async connection pool, for several gateway processes.

Connections run in autocommit mode: a method that is one statement is one transaction without
BEGIN/COMMIT round trips, and a method that writes several statements opens
`conn.transaction()` explicitly. Outbox work (`claim`, `apply_due_outcomes`) locks rows with
`FOR UPDATE SKIP LOCKED`, so any number of pipeline processes can share the table without
waiting on each other or taking the same message twice.
"""

from __future__ import annotations

from ..sql.accounts import SqlAccounts
from ..sql.audit import SqlAudit
from ..sql.cancels import SqlCancels
from ..sql.held import SqlHeld
from ..sql.idempotency import SqlIdempotency
from ..sql.links import SqlLinks
from ..sql.protections import SqlProtections
from ..sql.queue import SqlQueue
from ..sql.rates import SqlRates
from ..sql.replaces import SqlReplaces
from ..sql.retention import SqlRetention
from ..sql.schema import SqlSchema
from ..sql.smpp import SqlSmpp
from ..sql.smpp_deliveries import SqlSmppDeliveries
from ..sql.usage import SqlUsage
from .callbacks import PostgresCallbacks
from .dashboard import PostgresDashboard
from .lists import PostgresLists
from .messages import PostgresMessages
from .numbering import PostgresNumbering
from .two_way import PostgresTwoWay


class PostgresStore(
    SqlAccounts,
    PostgresMessages,
    SqlQueue,
    SqlLinks,
    PostgresCallbacks,
    PostgresLists,
    PostgresTwoWay,
    PostgresDashboard,
    SqlAudit,
    SqlSmpp,
    SqlSmppDeliveries,
    SqlSchema,
    PostgresNumbering,
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


__all__ = ["PostgresStore"]
