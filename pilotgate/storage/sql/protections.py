"""The store's per-account protections (migration 0016_abuse): the countries an account may
send to, its stop words, its CyrLat switch and its message caps. No row: the defaults.

What capped accounts have sent per UTC day and month (domain/limits.py): the count grows in
the submit's own transaction (`COUNT`, run by each dialect's group commit); here are the
reads and the purge."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain.protections import DEFAULTS, Protections

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


class ProtectionStore(SqlCore):
    """What each account may send: countries, stop words, the CyrLat filter, caps."""

    async def protections(self, account_id: int) -> Protections:
        """The account's settings; the defaults when it has none of its own."""
        row = await self._sql.one(
            "SELECT countries, stop_words, cyrlat, day_cap, month_cap FROM account_protections "
            "WHERE account_id = %s",
            (account_id,),
        )
        if row is None:
            return DEFAULTS
        countries, words, cyrlat, day_cap, month_cap = row
        return Protections(
            countries=None if countries is None else frozenset(countries.split(",")) - {""},
            stop_words=tuple(word for word in words.split("\n") if word),
            cyrlat=bool(cyrlat),
            day_cap=day_cap,
            month_cap=month_cap,
        )

    async def set_protections(self, account_id: int, protections: Protections) -> None:
        """Replace the account's settings. Raises ConflictError for an unknown account."""
        p = protections
        countries = None if p.countries is None else ",".join(sorted(p.countries))
        await self._sql.run(
            "INSERT INTO account_protections (account_id, countries, stop_words, cyrlat, "
            "day_cap, month_cap) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (account_id) DO UPDATE SET countries = excluded.countries, "
            "stop_words = excluded.stop_words, cyrlat = excluded.cyrlat, "
            "day_cap = excluded.day_cap, month_cap = excluded.month_cap",
            (account_id, countries, "\n".join(p.stop_words), p.cyrlat, p.day_cap, p.month_cap),
        )

    async def usage(self, account_id: int, period: str, start: datetime) -> int:
        """Messages a capped account sent in the period (`limits.DAY`, `MONTH`) from
        `start`."""
        row = await self._sql.one(
            "SELECT count FROM account_usage WHERE account_id = %s AND period = %s AND start = %s",
            (account_id, period, start),
        )
        return 0 if row is None else int(row[0])

    async def purge_usage(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` counts of periods that started before `before`."""
        return await self._sql.run(
            "DELETE FROM account_usage WHERE (account_id, period, start) IN "
            "(SELECT account_id, period, start FROM account_usage WHERE start < %s LIMIT %s)",
            (before, limit),
        )
