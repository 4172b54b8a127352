"""The store's per-account rates (migration 0020_rates, domain/rates.py): the operator's
settings and the two token buckets each account has, API requests and messages leaving the
queue. A bucket is taken under its row's lock (`FOR UPDATE` in PostgreSQL, SQLite's write
lock), so processes take tokens one after the other and the limit holds for all of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pilotgate.domain import rates as rules, routing
from pilotgate.domain.rates import Rates

from .core import SqlCore
from .driver import Statements

#: The bucket row of an account that has no settings of its own yet.
_ENSURE = "INSERT INTO account_rates (account_id) VALUES (%s) ON CONFLICT (account_id) DO NOTHING"


class RateStore(SqlCore):
    """Each account's rates (domain/rates.py) and the token buckets that hold them across
    processes."""

    async def rates(self, account_id: int) -> Rates:
        """The account's own rates; the defaults (None) when it has none."""
        row = await self._sql.one(
            "SELECT api_rps, mps FROM account_rates WHERE account_id = %s", (account_id,)
        )
        return rules.DEFAULTS if row is None else Rates(api_rps=row[0], mps=row[1])

    async def set_rates(self, account_id: int, rates: Rates) -> None:
        """Replace the account's rates. Raises ConflictError for an unknown account."""
        await self._sql.run(
            "INSERT INTO account_rates (account_id, api_rps, mps) VALUES (%s, %s, %s) "
            "ON CONFLICT (account_id) DO UPDATE SET api_rps = excluded.api_rps, "
            "mps = excluded.mps",
            (account_id, rates.api_rps, rates.mps),
        )

    async def own_send_rates(self) -> dict[int, int]:
        """account id → messages per second, for accounts with their own (0 = no limit)."""
        rows = await self._sql.rows(
            "SELECT account_id, mps FROM account_rates WHERE mps IS NOT NULL"
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def take_api_tokens(
        self, account_id: int, want: int, rps: int, now: datetime
    ) -> tuple[int, int]:
        """Take up to `want` tokens from the account's API bucket (refilled at `rps`):
        how many it gave, and the thousandths of a token left in it."""
        async with self._sql.tx() as tx:
            granted, left = await self._take(tx, account_id, "api", rps, want, now)
            await tx.run(
                "UPDATE account_rates SET api_tokens = %s, api_tokens_at = %s "
                "WHERE account_id = %s",
                (left, now, account_id),
            )
        return granted, left

    async def take_send_tokens(
        self, wants: Mapping[int, tuple[int, int]], now: datetime
    ) -> dict[int, int]:
        """account id → (messages wanted, its mps) to how many may go now, in one
        transaction; an account given fewer is left out of `claim(shaped=True)` until its
        bucket holds its next share."""
        granted: dict[int, int] = {}
        if not wants:
            return granted
        async with self._sql.tx() as tx:
            # In account order: two workers lock the same rows in the same order.
            for account_id in sorted(wants):
                want, mps = wants[account_id]
                granted[account_id] = await self._take_send(tx, account_id, want, mps, now)
        return granted

    async def _take(
        self, tx: Statements, account_id: int, bucket: str, rate: int, want: int, now: datetime
    ) -> tuple[int, int]:
        """Up to `want` tokens of the account's `bucket` ("api", "send"), refilled at `rate`
        a second, read under its row's lock: how many it gives, and the thousandths left."""
        await tx.run(_ENSURE, (account_id,))
        row = await tx.one(
            f"SELECT {bucket}_tokens, {bucket}_tokens_at FROM account_rates "
            f"WHERE account_id = %s{self._sql.for_update}",
            (account_id,),
        )
        assert row is not None  # ensured above, in this transaction
        return routing.grant(
            row[0], None if row[1] is None else self._sql.time(row[1]), now, rate, want
        )

    async def _take_send(
        self, tx: Statements, account_id: int, want: int, mps: int, now: datetime
    ) -> int:
        given, left = await self._take(tx, account_id, "send", mps, want, now)
        # Short of tokens: the account's messages stay out of claims until its next share.
        pause = None if given >= want else now + rules.pause(left, mps, want - given)
        await tx.run(
            "UPDATE account_rates SET send_tokens = %s, send_tokens_at = %s, send_next = %s "
            "WHERE account_id = %s",
            (left, now, pause, account_id),
        )
        return given
