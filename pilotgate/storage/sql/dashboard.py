"""What the cabinet reads (`DashboardReads`; its records are storage/dashboard.py, what the
console writes is `OperatorStore`, sql/operators.py). Only the per-day statistics differ by
database (storage/*/dashboard.py): how counters are kept up to date depends on how many
writers there can be."""

from __future__ import annotations

from abc import abstractmethod
from datetime import date, datetime, timedelta
from typing import Any

from ..dashboard import (
    CallbackAttempt,
    DayStat,
    HistoryPage,
    HistoryQuery,
    LedgerEntry,
)
from . import rows
from .core import SqlCore
from .driver import Row
from .retention import ORDER_SLACK, first_id

EPOCH_DAY = date(1970, 1, 1)
_LEDGER = rows.columns(LedgerEntry)
_ledger_entry = rows.reader(LedgerEntry, _LEDGER)
_ATTEMPTS = rows.columns(CallbackAttempt)
_attempt = rows.reader(CallbackAttempt, _ATTEMPTS)


class DashboardReads(SqlCore):
    """The cabinet's views: history, ledger, callback attempts and per-day statistics."""

    async def _id_bound(self, when: datetime, first: bool) -> int | None:
        """Where the keyset walk starts or stops for a date bound: the lowest id that may be
        created at or after `when` (first), or the highest that may be created before it;
        the page's own `created` condition keeps it exact (no index on `created`, 0033)."""
        found = await first_id(self._sql, "messages", when if first else when + 2 * ORDER_SLACK)
        if found is None:
            return None
        return found if first else found - 1

    async def history(
        self, account_id: int, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        """One page of the account's messages matching `query`, newest (highest id) first.
        Keyset-paged on server_id, so page 10,000 costs what page 1 does. A text filter has
        no index: it examines at most `window` of the account's messages below `before_id`
        (the bound found through the (account_id, id) index), and says how far it got in
        `searched_to` when it stopped there with older messages unsearched."""
        where, args = ["account_id = %s"], list[Any]([account_id])
        span, span_args = ["account_id = %s"], list[Any]([account_id])  # on (account_id, id)
        for when, first, op in ((query.since, True, ">="), (query.until, False, "<=")):
            if when is None:
                continue
            bound = await self._id_bound(when, first)
            if bound is None:
                return HistoryPage(messages=[])
            where += [f"id {op} %s", "created >= %s" if first else "created < %s"]
            args += [bound, when]
            # The bound is a few seconds wide of the date (ORDER_SLACK): so is the span.
            span += [f"id {op} %s", "created >= %s" if first else "created < %s"]
            span_args += [bound, when]
        if query.before_id is not None:
            span.append("id < %s")
            span_args.append(query.before_id)
        lowest = None
        # Text, sender and channel have no index: a page testing them walks the range, and
        # one matching nothing would walk the whole account (10⁷ messages: seconds).
        if query.text or query.sender or query.channel:
            # The window-th newest id of the range, and whether an older one follows it.
            edge = await self._sql.rows(
                f"SELECT id FROM messages WHERE {' AND '.join(span)} "
                "ORDER BY id DESC LIMIT 2 OFFSET %s",
                (*span_args, max(window, 1) - 1),
            )
            if len(edge) == 2:
                lowest = int(edge[0][0])
                where.append("id >= %s")
                args.append(lowest)
        filters: list[tuple[str, Any]] = [
            ("id < %s", query.before_id),
            ("phone = %s", query.phone or None),
            ("status = %s", query.status),
            ("sender = %s", query.sender or None),
            ("channel = %s", query.channel or None),
            (f"{self._sql.find_text}(text, %s) > 0", query.text or None),
        ]
        for clause, value in filters:
            if value is not None:
                where.append(clause)
                args.append(value)
        messages = await self._all(
            rows.message,
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT %s",
            (*args, limit),
        )
        return HistoryPage(messages=messages, searched_to=lowest if len(messages) < limit else None)

    async def ledger(self, account_id: int, before_id: int | None, limit: int) -> list[LedgerEntry]:
        """The account's ledger rows, newest first, keyset-paged on id."""
        return await self._all(
            _ledger_entry,
            f"SELECT {_LEDGER} FROM ledger WHERE account_id = %s "
            "AND id < %s ORDER BY id DESC LIMIT %s",
            (account_id, before_id if before_id is not None else rows.MAX_ID, limit),
        )

    async def callback_attempts(self, account_id: int, server_id: int) -> list[CallbackAttempt]:
        """The status callback jobs of one of the account's messages, oldest first."""
        return await self._all(
            _attempt,
            f"SELECT {_ATTEMPTS} FROM callbacks "
            "WHERE kind = 'status' AND ref = %s AND account_id = %s ORDER BY id",
            (server_id, account_id),
        )

    # per-day statistics (storage/*/dashboard.py) ---------------------------------------------
    @abstractmethod
    async def fold_statistics(self, limit: int) -> int:
        """Fold up to `limit` pending statistics changes into the per-day table (PostgreSQL
        appends them as deltas; SQLite counts in place and has nothing to fold)."""

    @abstractmethod
    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        """Per-day counts and spend of the account's messages created from `since` to `until`
        inclusive, from the aggregate table the database maintains (never a scan of
        messages)."""

    @staticmethod
    def _day_stats(found: list[Row]) -> list[DayStat]:
        # PostgreSQL's SUM(bigint) is numeric: int() keeps it exact.
        return [
            DayStat(day=EPOCH_DAY + timedelta(days=day), status=status, operator=operator,
                    count=int(count), spend=int(spend))
            for day, status, operator, count, spend in found
        ]  # fmt: skip
