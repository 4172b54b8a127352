"""SQLite store (the default): the driver's one connection (storage/sqlite/driver.py), WAL
journal, used from the event loop thread. `synchronous=NORMAL` in WAL mode makes every commit
survive a crash of the process (kill -9); set `sqlite_synchronous = "FULL"` to also survive a
power cut."""

from __future__ import annotations

from ..sql.core import SqlCore
from ..sql.messages import Pending
from .driver import SqliteDriver


class SqliteCore(SqlCore):
    """The driver, and the submits waiting for the next group commit."""

    _sql: SqliteDriver

    def __init__(self, path: str, *, synchronous: str = "NORMAL") -> None:
        self._sql = SqliteDriver(path, synchronous=synchronous)
        self._pending: list[Pending] = []
