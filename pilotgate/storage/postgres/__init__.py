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
from ..sql.idempotency import SqlIdempotency
from ..sql.protections import SqlProtections
from ..sql.usage import SqlUsage
from .callbacks import PostgresCallbacks
from .dashboard import PostgresDashboard
from .links import PostgresLinks
from .lists import PostgresLists
from .messages import PostgresMessages
from .queue import PostgresQueue
from .two_way import PostgresTwoWay


class PostgresStore(
    SqlAccounts,
    PostgresMessages,
    PostgresQueue,
    PostgresLinks,
    PostgresCallbacks,
    PostgresLists,
    PostgresTwoWay,
    PostgresDashboard,
    SqlAudit,
    SqlIdempotency,
    SqlProtections,
    SqlUsage,
):
    """The whole `Store` for this database, assembled from its parts."""


__all__ = ["PostgresStore"]
