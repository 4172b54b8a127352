"""What capped accounts have sent per UTC day and month (migration 0016_abuse,
domain/limits.py). The count grows in the submit's own transaction (`COUNT`, run by each
dialect's group commit); here are the reads and the purge."""

from __future__ import annotations

from datetime import datetime

from .core import SqlCore

#: Add a submit's messages (4th and 5th argument) to a period's count unless that would pass
#: the cap (6th and 7th); a row comes back only when they were added. The first submit of a
#: period inserts the row (the `WHERE` also keeps SQLite's parser from reading ON CONFLICT as
#: a join's ON).
COUNT = (
    "INSERT INTO account_usage (account_id, period, start, count) "
    "SELECT %s, %s, %s, %s WHERE %s <= %s "
    "ON CONFLICT (account_id, period, start) DO UPDATE "
    "SET count = account_usage.count + excluded.count "
    "WHERE account_usage.count + excluded.count <= %s RETURNING count"
)


class SqlUsage(SqlCore):
    async def usage(self, account_id: int, period: str, start: datetime) -> int:
        row = await self._sql.one(
            "SELECT count FROM account_usage WHERE account_id = %s AND period = %s AND start = %s",
            (account_id, period, start),
        )
        return 0 if row is None else int(row[0])

    async def purge_usage(self, before: datetime, limit: int) -> int:
        return await self._sql.run(
            "DELETE FROM account_usage WHERE (account_id, period, start) IN "
            "(SELECT account_id, period, start FROM account_usage WHERE start < %s LIMIT %s)",
            (before, limit),
        )
