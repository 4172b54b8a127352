"""SqliteStore: no partitions (the rest of retention is in storage/sql/retention.py)."""

from __future__ import annotations

from datetime import datetime

from ..base import Pruned
from ..sql.retention import RetentionStore


class SqliteRetention(RetentionStore):
    async def rotate_partitions(
        self, now: datetime, before: datetime | None, span: int | None = None
    ) -> Pruned:
        """SQLite has no partitions: its history leaves by the batches alone."""
        return Pruned()
