"""Stop lists, loop protection's look-back and referrals (migration 0007).

The global stop list is stored under account id 0 (no account has it), so one primary key
serves both and a send's check is one probe of that key per phone. The checks a send makes
(`stopped`, `recent_texts`) take all its phones as one parameter (`Driver.text_in`): a
10,000-recipient send is one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from ..base import Referral, StopEntry
from . import rows
from .core import SqlCore
from .gathered import Gatherer
from .retention import first_id

_GLOBAL = 0
#: Checks of up to this many phones are gathered with other requests' (sql/gathered.py);
#: a larger one is a statement of its own already.
_GATHERED_PHONES = 100


#: PostgreSQL's SUM(bigint) is numeric: int() keeps it exact.
_referral = rows.reader(
    Referral, "account_id, email, percent, commission", convert={"commission": lambda v, t: int(v)}
)


def stop_key(account_id: int | None) -> int:
    """The stop list's account id: the account's own, or 0 for the global list."""
    return _GLOBAL if account_id is None else account_id


class ListStore(SqlCore):
    """Stop lists, loop protection and referrals."""

    # stop lists ---------------------------------------------------------------------------
    async def add_stops(
        self, account_id: int | None, phones: Sequence[str], reason: str, now: datetime
    ) -> int:
        """Put phones on the account's stop list (None: the global one); returns how many
        were not there yet."""
        if not phones:
            return 0
        # One statement whatever the list's size (`Driver.table`); `WHERE true` tells
        # SQLite's parser that ON CONFLICT is the upsert's, not a join's.
        sql = self._sql
        listed = sql.table_args([(phone,) for phone in dict.fromkeys(phones)])
        added = await sql.rows(
            "INSERT INTO stop_list (account_id, phone, reason, created) SELECT %s, p.phone, "
            f"%s, %s FROM {sql.table('p', [('phone', 'text')])} WHERE true "
            "ON CONFLICT DO NOTHING RETURNING phone",
            (stop_key(account_id), reason, now, *listed),
        )
        return len(added)

    async def remove_stop(self, account_id: int | None, phone: str) -> bool:
        removed = await self._sql.run(
            "DELETE FROM stop_list WHERE account_id = %s AND phone = %s",
            (stop_key(account_id), phone),
        )
        return removed > 0

    async def stop_entries(self, account_id: int | None) -> list[StopEntry]:
        found = await self._sql.rows(
            "SELECT phone, reason, created FROM stop_list WHERE account_id = %s ORDER BY phone",
            (stop_key(account_id),),
        )
        return [
            StopEntry(
                account_id=account_id, phone=row[0], reason=row[1], created=self._sql.time(row[2])
            )
            for row in found
        ]

    async def stopped(self, account_id: int, phones: Sequence[str]) -> set[str]:
        """Those of `phones` on the account's or the global stop list (one query)."""
        if not phones:
            return set()
        if len(phones) <= _GATHERED_PHONES:
            return await self._stop_checks.ask((account_id, phones))
        (stopped,) = await self._stopped_together([(account_id, phones)])
        return stopped

    @functools.cached_property
    def _stop_checks(self) -> Gatherer[tuple[int, Sequence[str]], set[str]]:
        return Gatherer(self._stopped_together)

    async def _stopped_together(
        self, checks: Sequence[tuple[int, Sequence[str]]]
    ) -> list[set[str]]:
        """Several sends' checks in one statement: every (list, phone) pair of their
        accounts and phones, then each send's own phones stopped globally or by its account."""
        accounts = sorted({_GLOBAL} | {account_id for account_id, _ in checks})
        phones = sorted({phone for _, wanted in checks for phone in wanted})
        found = await self._sql.rows(
            f"SELECT account_id, phone FROM stop_list WHERE account_id {self._sql.int_in} "
            f"AND phone {self._sql.text_in}",
            (self._sql.ints(accounts), self._sql.texts(phones)),
        )
        listed = {(row[0], row[1]) for row in found}
        return [
            {p for p in wanted if (_GLOBAL, p) in listed or (account_id, p) in listed}
            for account_id, wanted in checks
        ]

    # loop protection ----------------------------------------------------------------------
    async def recent_texts(
        self, account_id: int, phones: Sequence[str], since: datetime
    ) -> set[tuple[str, str]]:
        """(phone, text) of the account's messages to `phones` created at or after `since`,
        failed ones (-2) excepted (one query)."""
        if not phones:
            return set()
        # Through (account_id, phone, id) from an id bound: no index on `created` (0033).
        bound = await first_id(self._sql, "messages", since)
        if bound is None:
            return set()
        found = await self._sql.rows(
            f"SELECT phone, text FROM messages{self._sql.indexed_by('messages_account_phone')} "
            f"WHERE account_id = %s AND phone {self._sql.text_in} "
            "AND id >= %s AND created >= %s AND status <> -2",
            (account_id, self._sql.texts(phones), bound, since),
        )
        return {(row[0], row[1]) for row in found}

    async def set_loop_window(self, account_id: int, seconds: int | None) -> None:
        """The account's loop window; None = the gateway's default. NotFoundError if none."""
        await self._set_account("loop_window", seconds, account_id)

    # referrals ----------------------------------------------------------------------------
    async def link_referrer(self, account_id: int, referrer_id: int, percent: int) -> bool:
        """Record `referrer_id` as the account's referrer with its share, unless the account
        has one already, the referrer does not exist, or it would close a cycle."""
        if account_id == referrer_id:
            return False
        async with self._sql.tx() as tx:
            # Referral changes one at a time: two accounts naming each other at the same
            # moment must not both pass the cycle check (SQLite's write transactions already
            # run one at a time; PostgreSQL's take a named lock).
            if self._sql.lock_named:
                await tx.run(self._sql.lock_named, ("referrals",))
            # The referrer's own chain of referrers must not lead back to the account: a
            # cycle would pay shares round in a circle (and is never a real referral).
            cycle = await tx.one(
                "WITH RECURSIVE chain(id) AS (SELECT CAST(%s AS bigint) UNION SELECT "
                "a.referrer_id FROM accounts a JOIN chain c ON a.id = c.id "
                "WHERE a.referrer_id IS NOT NULL) SELECT 1 FROM chain WHERE id = %s",
                (referrer_id, account_id),
            )
            if cycle:
                return False
            linked = await tx.run(
                "UPDATE accounts SET referrer_id = %s, referral_percent = %s "
                "WHERE id = %s AND referrer_id IS NULL "
                "AND EXISTS (SELECT 1 FROM accounts WHERE id = %s)",
                (referrer_id, percent, account_id, referrer_id),
            )
            return linked > 0

    async def referrals(self, referrer_id: int) -> list[Referral]:
        return await self._all(
            _referral,
            "SELECT a.id, a.email, a.referral_percent, COALESCE((SELECT SUM(l.amount) "
            "FROM ledger l WHERE l.account_id = a.referrer_id AND l.kind = 'referral' "
            "AND l.ref = a.id), 0) FROM accounts a WHERE a.referrer_id = %s ORDER BY a.id",
            (referrer_id,),
        )
