"""The store's per-account protections (migration 0016_abuse): the countries an account may
send to, its stop words, its CyrLat switch and its message caps. No row: the defaults."""

from __future__ import annotations

from pilotgate.domain.protections import DEFAULTS, Protections

from .core import SqlCore


class SqlProtections(SqlCore):
    async def protections(self, account_id: int) -> Protections:
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
