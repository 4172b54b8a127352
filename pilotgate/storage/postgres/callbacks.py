"""PostgresStore: the messages and inbound SMS a batch of callback jobs names, read with one
array parameter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ..sql import rows
from ..sql.callbacks import SqlCallbacks
from ..sql.driver import Row

T = TypeVar("T")


class PostgresCallbacks(SqlCallbacks):
    async def _by_ids(
        self, source: str, ids: Sequence[int], read: Callable[[Row, rows.Time], T]
    ) -> list[T]:
        wanted = [i for i in ids if -rows.MAX_ID <= i <= rows.MAX_ID]  # bigint ids
        if not wanted:
            return []
        found = await self._sql.rows(
            f"SELECT {source} WHERE id = ANY(%s::bigint[]) ORDER BY id", (wanted,)
        )
        return [read(row, self._sql.time) for row in found]
