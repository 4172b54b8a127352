"""PostgreSQL store: psycopg 3 with an async connection pool, for several gateway processes.

Connections run in autocommit mode: a method that is one statement is one transaction without
BEGIN/COMMIT round trips, and a method that writes several statements opens
`conn.transaction()` explicitly. Outbox work (`claim`, `apply_due_outcomes`) locks rows with
`FOR UPDATE SKIP LOCKED`, so any number of pipeline processes can share the table without
waiting on each other or taking the same message twice.
"""

from __future__ import annotations

from ..sql.store import Store
from .dashboard import PostgresDashboard
from .messages import PostgresMessages
from .numbering import PostgresNumbering
from .partitions import PostgresPartitions


class PostgresStore(
    PostgresMessages,
    PostgresDashboard,
    PostgresNumbering,
    PostgresPartitions,
    Store,
):
    """The whole `Store` for this database: its own parts, then those written once."""


__all__ = ["PostgresStore"]
