"""SqliteStore: the messages and inbound SMS a batch of callback jobs names, read in chunks
that SQLite's parameter limit allows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ..sql import rows
from ..sql.callbacks import SqlCallbacks
from ..sql.driver import Row

T = TypeVar("T")

#: Well below SQLite's limit on parameters in one statement.
_CHUNK = 500


class SqliteCallbacks(SqlCallbacks):
    async def _by_ids(
        self, source: str, ids: Sequence[int], read: Callable[[Row, rows.Time], T]
    ) -> list[T]:
        usable = [i for i in ids if 0 <= i <= rows.MAX_ID]  # beyond 64 bits: names nothing
        found: list[T] = []
        for start in range(0, len(usable), _CHUNK):
            chunk = usable[start : start + _CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            got = await self._sql.rows(f"SELECT {source} WHERE id IN ({marks})", chunk)
            found.extend(read(row, self._sql.time) for row in got)
        return found
