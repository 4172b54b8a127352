"""PostgresStore: stop lists, loop protection's look-back and referrals (migration 0007).

The global stop list is stored under account id 0 (no account has it), so one primary key
serves both. Phones travel as one array parameter (`= ANY(%s)`): a 10,000-recipient send is
one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.errors import NotFoundError

from ..base import Referral, StopEntry
from .core import PostgresCore

_GLOBAL = 0


def _key(account_id: int | None) -> int:
    return _GLOBAL if account_id is None else account_id


class PostgresLists(PostgresCore):
    # stop lists ---------------------------------------------------------------------------
    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        rows = await self._rows(
            "INSERT INTO stop_list (account_id, phone, reason, created) "
            "SELECT %s, p, %s, %s FROM unnest(%s::text[]) AS p ON CONFLICT DO NOTHING "
            "RETURNING phone",
            (_key(account_id), reason, now, list(dict.fromkeys(phones))),
        )
        return len(rows)

    async def remove_stop(self, account_id: int | None, phone: str) -> bool:
        return (
            await self._count(
                "DELETE FROM stop_list WHERE account_id = %s AND phone = %s",
                (_key(account_id), phone),
            )
            > 0
        )

    async def stop_entries(self, account_id: int | None) -> list[StopEntry]:
        return [
            StopEntry(account_id=account_id, phone=row[0], reason=row[1], created=row[2])
            for row in await self._rows(
                "SELECT phone, reason, created FROM stop_list WHERE account_id = %s ORDER BY phone",
                (_key(account_id),),
            )
        ]

    async def stopped(self, account_id: int, phones: Sequence[str]) -> set[str]:
        if not phones:
            return set()
        rows = await self._rows(
            "SELECT DISTINCT phone FROM stop_list WHERE account_id IN (0, %s) "
            "AND phone = ANY(%s::text[])",
            (account_id, list(phones)),
        )
        return {row[0] for row in rows}

    # loop protection ----------------------------------------------------------------------
    async def recent_texts(
        self, account_id: int, phones: Sequence[str], since: datetime
    ) -> set[tuple[str, str]]:
        if not phones:
            return set()
        rows = await self._rows(
            "SELECT phone, text FROM messages WHERE account_id = %s "
            "AND phone = ANY(%s::text[]) AND created >= %s AND status <> -2",
            (account_id, list(phones), since),
        )
        return {(row[0], row[1]) for row in rows}

    async def set_loop_window(self, account_id: int, seconds: int | None) -> None:
        moved = await self._count(
            "UPDATE accounts SET loop_window = %s WHERE id = %s", (seconds, account_id)
        )
        if moved == 0:
            raise NotFoundError(f"no account {account_id}")

    # referrals ----------------------------------------------------------------------------
    async def link_referrer(self, account_id: int, referrer_id: int, percent: int) -> bool:
        if account_id == referrer_id:
            return False
        async with self._tx() as conn:
            # Serialise referral changes: two accounts naming each other at the same moment
            # must not both pass the cycle check below.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (0x7265666572,))
            cursor = await conn.execute(
                "WITH RECURSIVE chain(id) AS (SELECT %s::bigint UNION SELECT a.referrer_id "
                "FROM accounts a JOIN chain c ON a.id = c.id WHERE a.referrer_id IS NOT NULL) "
                "SELECT 1 FROM chain WHERE id = %s",
                (referrer_id, account_id),
            )
            if await cursor.fetchone():
                return False  # a cycle would pay shares round in a circle
            cursor = await conn.execute(
                "UPDATE accounts SET referrer_id = %s, referral_percent = %s "
                "WHERE id = %s AND referrer_id IS NULL "
                "AND EXISTS (SELECT 1 FROM accounts WHERE id = %s)",
                (referrer_id, percent, account_id, referrer_id),
            )
            return cursor.rowcount > 0

    async def referrals(self, referrer_id: int) -> list[Referral]:
        return [
            Referral(account_id=row[0], email=row[1], percent=row[2], commission=int(row[3]))
            for row in await self._rows(
                "SELECT a.id, a.email, a.referral_percent, COALESCE((SELECT SUM(l.amount) "
                "FROM ledger l WHERE l.account_id = a.referrer_id AND l.kind = 'referral' "
                "AND l.ref = a.id), 0) FROM accounts a WHERE a.referrer_id = %s ORDER BY a.id",
                (referrer_id,),
            )
        ]
