"""PostgresStore: the dashboard's per-day statistics. Counters updated in place by concurrent
transactions would serialise every status change of an account on a few hot rows, so submit
and the status trigger append deltas (migration 0011), `fold_statistics` folds them in and a
read adds the ones not folded yet (the rest of the dashboard is in storage/sql/dashboard.py)."""

from __future__ import annotations

from datetime import date

from ..dashboard import DayStat
from ..sql.dashboard import EPOCH_DAY, DashboardReads

#: Folds pending statistics deltas into message_days: deltas taken with SKIP LOCKED (two
#: folds never take the same ones), counters upserted in key order (no deadlock).
_FOLD = (
    "WITH moved AS (DELETE FROM message_day_deltas WHERE id IN (SELECT id FROM "
    "message_day_deltas ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "RETURNING account_id, day, status, operator, count, spend) "
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "SELECT account_id, day, status, operator, sum(count), sum(spend) FROM moved "
    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 ON CONFLICT (account_id, day, status, operator) "
    "DO UPDATE SET count = message_days.count + excluded.count, "
    "spend = message_days.spend + excluded.spend"
)


class PostgresDashboard(DashboardReads):
    async def fold_statistics(self, limit: int) -> int:
        return await self._sql.run(_FOLD, (limit,))

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        first, last = (since - EPOCH_DAY).days, (until - EPOCH_DAY).days
        found = await self._sql.rows(
            "SELECT day, status, operator, sum(count), sum(spend) FROM ("
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = %s AND day BETWEEN %s AND %s UNION ALL "
            "SELECT day, status, operator, count, spend FROM message_day_deltas "
            "WHERE account_id = %s AND day BETWEEN %s AND %s) AS t "
            "GROUP BY day, status, operator HAVING sum(count) <> 0 ORDER BY day",
            (account_id, first, last, account_id, first, last),
        )
        return self._day_stats(found)
