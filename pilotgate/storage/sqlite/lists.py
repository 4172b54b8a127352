"""SqliteStore: stop lists, loop protection's look-back and referrals (migration 0007).

The global stop list is stored under account id 0 (no account has it), so one primary key
serves both and a send's check is one probe of that key per phone. Phones travel to SQLite
as one JSON array (`json_each`): a 10,000-recipient send is one statement, not 20 chunks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pilotgate.errors import NotFoundError

from ..base import Referral, StopEntry
from .core import SqliteCore, _dt, _us

_GLOBAL = 0


def _key(account_id: int | None) -> int:
    return _GLOBAL if account_id is None else account_id


class SqliteLists(SqliteCore):
    # stop lists ---------------------------------------------------------------------------
    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        with self._tx() as db:
            cursor = db.executemany(
                "INSERT INTO stop_list (account_id, phone, reason, created) VALUES (?,?,?,?) "
                "ON CONFLICT DO NOTHING",
                [(_key(account_id), phone, reason, _us(now)) for phone in phones],
            )
            return max(cursor.rowcount, 0)

    async def remove_stop(self, account_id: int | None, phone: str) -> bool:
        with self._tx() as db:
            return (
                db.execute(
                    "DELETE FROM stop_list WHERE account_id = ? AND phone = ?",
                    (_key(account_id), phone),
                ).rowcount
                > 0
            )

    async def stop_entries(self, account_id: int | None) -> list[StopEntry]:
        return [
            StopEntry(account_id=account_id, phone=row[0], reason=row[1], created=_dt(row[2]))
            for row in self._read(
                "SELECT phone, reason, created FROM stop_list WHERE account_id = ? ORDER BY phone",
                (_key(account_id),),
            )
        ]

    async def stopped(self, account_id: int, phones: Sequence[str]) -> set[str]:
        if not phones:
            return set()
        rows = self._read(
            "SELECT DISTINCT phone FROM stop_list WHERE account_id IN (0, ?) "
            "AND phone IN (SELECT value FROM json_each(?))",
            (account_id, json.dumps(list(phones))),
        )
        return {row[0] for row in rows}

    # loop protection ----------------------------------------------------------------------
    async def recent_texts(
        self, account_id: int, phones: Sequence[str], since: datetime
    ) -> set[tuple[str, str]]:
        if not phones:
            return set()
        rows = self._read(
            "SELECT phone, text FROM messages WHERE account_id = ? "
            "AND phone IN (SELECT value FROM json_each(?)) AND created >= ? AND status <> -2",
            (account_id, json.dumps(list(phones)), _us(since)),
        )
        return {(row[0], row[1]) for row in rows}

    async def set_loop_window(self, account_id: int, seconds: int | None) -> None:
        with self._tx() as db:
            moved = db.execute(
                "UPDATE accounts SET loop_window = ? WHERE id = ?", (seconds, account_id)
            ).rowcount
        if moved == 0:
            raise NotFoundError(f"no account {account_id}")

    # referrals ----------------------------------------------------------------------------
    async def link_referrer(self, account_id: int, referrer_id: int, percent: int) -> bool:
        if account_id == referrer_id:
            return False
        with self._tx() as db:
            # The referrer's own chain of referrers must not lead back to the account: a
            # cycle would pay shares round in a circle (and is never a real referral).
            cycle = db.execute(
                "WITH RECURSIVE chain(id) AS (SELECT ? UNION SELECT a.referrer_id "
                "FROM accounts a JOIN chain c ON a.id = c.id WHERE a.referrer_id IS NOT NULL) "
                "SELECT 1 FROM chain WHERE id = ?",
                (referrer_id, account_id),
            ).fetchone()
            if cycle:
                return False
            return (
                db.execute(
                    "UPDATE accounts SET referrer_id = ?, referral_percent = ? "
                    "WHERE id = ? AND referrer_id IS NULL "
                    "AND EXISTS (SELECT 1 FROM accounts WHERE id = ?)",
                    (referrer_id, percent, account_id, referrer_id),
                ).rowcount
                > 0
            )

    async def referrals(self, referrer_id: int) -> list[Referral]:
        return [
            Referral(account_id=row[0], email=row[1], percent=row[2], commission=row[3])
            for row in self._read(
                "SELECT a.id, a.email, a.referral_percent, COALESCE((SELECT SUM(l.amount) "
                "FROM ledger l WHERE l.account_id = a.referrer_id AND l.kind = 'referral' "
                "AND l.ref = a.id), 0) FROM accounts a WHERE a.referrer_id = ? ORDER BY a.id",
                (referrer_id,),
            )
        ]
