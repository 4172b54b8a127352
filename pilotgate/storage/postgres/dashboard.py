"""PostgresStore: what the web dashboard reads and writes (storage/dashboard.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.rows import TupleRow

from pilotgate.domain.senders import SenderState
from pilotgate.errors import NotFoundError

from ..base import Sender
from ..dashboard import (
    CallbackAttempt,
    DayStat,
    HistoryPage,
    HistoryQuery,
    LedgerEntry,
    Operator,
    SenderVerdict,
)
from .core import _MAX_ID, _SELECT_MESSAGE, _SENDER_COLUMNS, PostgresCore, _message, _sender

_EPOCH_DAY = date(1970, 1, 1)
_OPERATOR = "SELECT id, email, password_hash, created FROM operators "

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


def _operator(row: TupleRow) -> Operator:
    return Operator(id=row[0], email=row[1], password_hash=row[2], created=row[3])


class PostgresDashboard(PostgresCore):
    # operators and passwords -----------------------------------------------------------------
    async def add_operator(self, email: str, password_hash: str, now: datetime) -> Operator:
        rows = await self._rows(
            "INSERT INTO operators (email, password_hash, created) VALUES (%s, %s, %s) "
            "RETURNING id, email, password_hash, created",
            (email, password_hash, now),
        )
        return _operator(rows[0])

    async def operator(self, operator_id: int) -> Operator | None:
        rows = await self._rows(_OPERATOR + "WHERE id = %s", (operator_id,))
        return _operator(rows[0]) if rows else None

    async def operator_by_email(self, email: str) -> Operator | None:
        rows = await self._rows(_OPERATOR + "WHERE email = %s", (email,))
        return _operator(rows[0]) if rows else None

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        await self._count(
            "UPDATE operators SET password_hash = %s WHERE id = %s", (password_hash, operator_id)
        )

    async def set_account_password(self, account_id: int, password_hash: str) -> None:
        changed = await self._count(
            "UPDATE accounts SET password_hash = %s WHERE id = %s", (password_hash, account_id)
        )
        if not changed:
            raise NotFoundError(f"no account {account_id}")

    async def replace_api_keys(self, account_id: int, digest: str, now: datetime) -> None:
        async with self._tx() as conn:
            await conn.execute("DELETE FROM api_keys WHERE account_id = %s", (account_id,))
            await conn.execute(
                "INSERT INTO api_keys VALUES (%s, %s, %s)", (digest, account_id, now)
            )

    # sender names ----------------------------------------------------------------------------
    async def all_senders(self, state: SenderState | None) -> list[Sender]:
        select = sql.SQL("SELECT {} FROM senders ").format(_SENDER_COLUMNS)
        if state is None:
            rows = await self._rows(select + sql.SQL("ORDER BY id"))
        else:
            rows = await self._rows(
                select + sql.SQL("WHERE state = %s ORDER BY id"), (state.value,)
            )
        return [_sender(row) for row in rows]

    async def set_sender_verdict(
        self, sender_id: int, state: SenderState, reason: str, now: datetime
    ) -> Sender:
        async with self._tx() as conn:
            cursor = await conn.execute(
                sql.SQL(
                    "UPDATE senders SET state = %s, reason = %s WHERE id = %s RETURNING {}"
                ).format(_SENDER_COLUMNS),
                (state.value, reason, sender_id),
            )
            row = await cursor.fetchone()
            if row is None:
                raise NotFoundError(f"no sender {sender_id}")
            sender = _sender(row)
            if sender.callback.lower().startswith(("http://", "https://")):
                await conn.execute(
                    "INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at) "
                    "SELECT 'sender', id, %s, %s, status_method, %s, %s FROM accounts "
                    "WHERE id = %s",
                    (sender.id, sender.callback, now, now, sender.account_id),
                )
        return sender

    async def sender_verdicts(self, ids: Sequence[int]) -> list[SenderVerdict]:
        usable = [i for i in ids if 0 <= i <= _MAX_ID]
        rows = await self._rows(
            "SELECT id, account_id, name, state, reason FROM senders WHERE id = ANY(%s)",
            (usable,),
        )
        return [
            SenderVerdict(sender_id=r[0], account_id=r[1], name=r[2], state=r[3], reason=r[4])
            for r in rows
        ]

    # lockout and the session secret ----------------------------------------------------------
    async def login_failures(self, who: str, since: datetime) -> int:
        rows = await self._rows(
            "SELECT count(*) FROM login_failures WHERE who = %s AND at >= %s", (who, since)
        )
        return int(rows[0][0])

    async def record_login_failure(self, who: str, now: datetime) -> None:
        async with self._tx() as conn:
            await conn.execute("INSERT INTO login_failures VALUES (%s, %s)", (who, now))
            await conn.execute(
                "DELETE FROM login_failures WHERE at < %s", (now - timedelta(days=1),)
            )

    async def clear_login_failures(self, who: str) -> None:
        await self._count("DELETE FROM login_failures WHERE who = %s", (who,))

    async def dashboard_secret(self, candidate: str) -> str:
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO dashboard_secret VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            cursor = await conn.execute("SELECT secret FROM dashboard_secret")
            row = await cursor.fetchone()
        assert row is not None
        return str(row[0])

    # the cabinet's views ---------------------------------------------------------------------
    async def _id_bound(self, account_id: int, when: datetime, first: bool) -> int | None:
        """See the SQLite store: dates become an id range of the keyset walk."""
        if first:
            query: Any = (
                "SELECT id FROM messages WHERE account_id = %s AND created >= %s "
                "ORDER BY created, id LIMIT 1"
            )
        else:
            query = (
                "SELECT id FROM messages WHERE account_id = %s AND created < %s "
                "ORDER BY created DESC, id DESC LIMIT 1"
            )
        rows = await self._rows(query, (account_id, when))
        return int(rows[0][0]) if rows else None

    async def history(
        self, account_id: int, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        where: list[sql.SQL] = [sql.SQL("account_id = %s")]
        args: list[Any] = [account_id]
        span: list[sql.SQL] = [sql.SQL("account_id = %s")]  # the id range alone: indexed
        span_args: list[Any] = [account_id]
        for when, first in ((query.since, True), (query.until, False)):
            if when is None:
                continue
            bound = await self._id_bound(account_id, when, first)
            if bound is None:
                return HistoryPage(messages=[])
            where.append(
                sql.SQL("id >= %s AND created >= %s" if first else "id <= %s AND created < %s")
            )
            args += [bound, when]
            span.append(sql.SQL("id >= %s" if first else "id <= %s"))
            span_args.append(bound)
        if query.before_id is not None:
            span.append(sql.SQL("id < %s"))
            span_args.append(query.before_id)
        lowest = None
        if query.text:
            # See the SQLite store: the window-th newest id, and whether an older one follows.
            edge = await self._rows(
                sql.SQL(
                    "SELECT id FROM messages WHERE {} ORDER BY id DESC LIMIT 2 OFFSET %s"
                ).format(sql.SQL(" AND ").join(span)),
                (*span_args, max(window, 1) - 1),
            )
            if len(edge) == 2:
                lowest = int(edge[0][0])
                where.append(sql.SQL("id >= %s"))
                args.append(lowest)
        filters: list[tuple[str, Any]] = [
            ("id < %s", query.before_id),
            ("phone = %s", query.phone or None),
            ("status = %s", query.status),
            ("sender = %s", query.sender or None),
            ("channel = %s", query.channel or None),
            ("strpos(text, %s) > 0", query.text or None),
        ]
        for clause, value in filters:
            if value is not None:
                where.append(sql.SQL(clause))
                args.append(value)
        rows = await self._rows(
            _SELECT_MESSAGE
            + sql.SQL("WHERE {} ORDER BY id DESC LIMIT %s").format(sql.SQL(" AND ").join(where)),
            (*args, limit),
        )
        messages = [_message(row) for row in rows]
        return HistoryPage(messages=messages, searched_to=lowest if len(rows) < limit else None)

    async def ledger(self, account_id: int, before_id: int | None, limit: int) -> list[LedgerEntry]:
        rows = await self._rows(
            "SELECT id, amount, kind, note, created FROM ledger WHERE account_id = %s "
            "AND id < %s ORDER BY id DESC LIMIT %s",
            (account_id, before_id if before_id is not None else 2**63 - 1, limit),
        )
        return [LedgerEntry(id=r[0], amount=r[1], kind=r[2], note=r[3], created=r[4]) for r in rows]

    async def callback_attempts(self, account_id: int, server_id: int) -> list[CallbackAttempt]:
        rows = await self._rows(
            "SELECT status, error, url, created, attempts, last_error, done_at, failed "
            "FROM callbacks WHERE kind = 'status' AND ref = %s AND account_id = %s ORDER BY id",
            (server_id, account_id),
        )
        return [
            CallbackAttempt(
                status=r[0],
                error=r[1],
                url=r[2],
                created=r[3],
                attempts=r[4],
                last_error=r[5],
                done_at=r[6],
                failed=r[7],
            )
            for r in rows
        ]

    async def fold_statistics(self, limit: int) -> int:
        return await self._count(_FOLD, (limit,))

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        first, last = (since - _EPOCH_DAY).days, (until - _EPOCH_DAY).days
        rows = await self._rows(
            "SELECT day, status, operator, sum(count), sum(spend) FROM ("
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = %s AND day BETWEEN %s AND %s UNION ALL "
            "SELECT day, status, operator, count, spend FROM message_day_deltas "
            "WHERE account_id = %s AND day BETWEEN %s AND %s) AS t "
            "GROUP BY day, status, operator HAVING sum(count) <> 0 ORDER BY day",
            (account_id, first, last, account_id, first, last),
        )
        return [
            DayStat(
                day=_EPOCH_DAY + timedelta(days=r[0]),
                status=r[1],
                operator=r[2],
                count=int(r[3]),
                spend=int(r[4]),
            )
            for r in rows
        ]
