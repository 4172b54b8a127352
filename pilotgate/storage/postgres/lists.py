"""PostgresStore: the stop-list import as one statement (`unnest` of one array parameter)
rather than a statement per phone, and the advisory lock that serialises referral changes
(the rest of lists is in storage/sql/lists.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..sql.driver import Statements
from ..sql.lists import SqlLists, stop_key

#: Key of the advisory lock that serialises referral changes ("refer" in ASCII).
_REFERRALS_LOCK = 0x7265666572


class PostgresLists(SqlLists):
    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        added = await self._sql.rows(
            "INSERT INTO stop_list (account_id, phone, reason, created) "
            "SELECT %s, p, %s, %s FROM unnest(%s::text[]) AS p ON CONFLICT DO NOTHING "
            "RETURNING phone",
            (stop_key(account_id), reason, now, list(dict.fromkeys(phones))),
        )
        return len(added)

    async def _lock_referrals(self, tx: Statements) -> None:
        await tx.run("SELECT pg_advisory_xact_lock(%s)", (_REFERRALS_LOCK,))
