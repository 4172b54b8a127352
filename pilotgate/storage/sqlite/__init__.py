"""SQLite store (the default). One connection, WAL journal, used from the event loop thread.

Why synchronous calls inside `async def`: every statement here is local and short (tens of
microseconds), so a thread hop would cost more than the work. Writers serialise on SQLite's
lock; `BEGIN IMMEDIATE` takes it at the start so a transaction never fails half-way on
upgrade. `synchronous=NORMAL` in WAL mode makes every commit survive a crash of the process
(kill -9); set `sqlite_synchronous = "FULL"` to also survive a power cut.
"""

from __future__ import annotations

from ..sql.store import Store
from .dashboard import SqliteDashboard
from .messages import SqliteMessages
from .numbering import SqliteNumbering
from .retention import SqliteRetention


class SqliteStore(
    SqliteMessages,
    SqliteDashboard,
    SqliteNumbering,
    SqliteRetention,
    Store,
):
    """The whole `Store` for this database: its own parts, then those written once."""


__all__ = ["SqliteStore"]
