"""SqliteStore: the dashboard's per-day statistics, counted in place by triggers (migration
0011): SQLite has one writer at a time, so the counters never contend (the rest of the
dashboard is in storage/sql/dashboard.py)."""

from __future__ import annotations

from datetime import date

from ..dashboard import DayStat
from ..sql.dashboard import EPOCH_DAY, DashboardReads


class SqliteDashboard(DashboardReads):
    async def fold_statistics(self, limit: int) -> int:
        return 0  # the triggers count in place: SQLite has one writer at a time

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        found = await self._sql.rows(
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = %s AND day BETWEEN %s AND %s AND count <> 0 ORDER BY day",
            (account_id, (since - EPOCH_DAY).days, (until - EPOCH_DAY).days),
        )
        return self._day_stats(found)


__all__ = ["SqliteDashboard"]
