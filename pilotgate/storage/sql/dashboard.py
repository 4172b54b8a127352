"""What the web dashboard reads and writes (storage/dashboard.py). Only the per-day
statistics differ by database (storage/*/dashboard.py): how counters are kept up to date
depends on how many writers there can be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, NotFoundError

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
from . import rows
from .core import SqlCore
from .driver import Row

EPOCH_DAY = date(1970, 1, 1)
_OPERATOR_COLUMNS = "id, email, password_hash, created"
_operator = rows.reader(Operator, _OPERATOR_COLUMNS)
_verdict = rows.reader(
    SenderVerdict, "id, account_id, name, state, reason", renamed={"id": "sender_id"}
)
_LEDGER = "id, amount, kind, note, created"
_ledger_entry = rows.reader(LedgerEntry, _LEDGER)
_ATTEMPTS = "status, error, url, created, attempts, last_error, done_at, failed"
_attempt = rows.reader(CallbackAttempt, _ATTEMPTS)


class SqlDashboard(SqlCore):
    # operators and passwords -----------------------------------------------------------------
    async def add_operator(self, email: str, password_hash: str, now: datetime) -> Operator:
        try:
            row = await self._sql.one(
                "INSERT INTO operators (email, password_hash, created) VALUES (%s, %s, %s) "
                f"RETURNING {_OPERATOR_COLUMNS}",
                (email, password_hash, now),
            )
        except ConflictError as exc:
            raise ConflictError(f"operator {email} exists") from exc
        assert row is not None
        return _operator(row, self._sql.time)

    async def operator(self, operator_id: int) -> Operator | None:
        row = await self._sql.one(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE id = %s", (operator_id,)
        )
        return None if row is None else _operator(row, self._sql.time)

    async def operator_by_email(self, email: str) -> Operator | None:
        row = await self._sql.one(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE email = %s", (email,)
        )
        return None if row is None else _operator(row, self._sql.time)

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        await self._sql.run(
            "UPDATE operators SET password_hash = %s WHERE id = %s", (password_hash, operator_id)
        )

    async def set_account_password(self, account_id: int, password_hash: str) -> None:
        changed = await self._sql.run(
            "UPDATE accounts SET password_hash = %s WHERE id = %s", (password_hash, account_id)
        )
        if not changed:
            raise NotFoundError(f"no account {account_id}")

    async def replace_api_keys(self, account_id: int, digest: str, now: datetime) -> None:
        async with self._sql.tx() as tx:
            await tx.run("DELETE FROM api_keys WHERE account_id = %s", (account_id,))
            await tx.run("INSERT INTO api_keys VALUES (%s, %s, %s)", (digest, account_id, now))

    # sender names ----------------------------------------------------------------------------
    async def all_senders(self, state: SenderState | None) -> list[Sender]:
        select = f"SELECT {rows.SENDER_COLUMNS} FROM senders "
        if state is None:
            found = await self._sql.rows(select + "ORDER BY id")
        else:
            found = await self._sql.rows(select + "WHERE state = %s ORDER BY id", (state.value,))
        return [rows.sender(row, self._sql.time) for row in found]

    async def set_sender_verdict(
        self, sender_id: int, state: SenderState, reason: str, now: datetime
    ) -> Sender:
        async with self._sql.tx() as tx:
            row = await tx.one(
                "UPDATE senders SET state = %s, reason = %s WHERE id = %s "
                f"RETURNING {rows.SENDER_COLUMNS}",
                (state.value, reason, sender_id),
            )
            if row is None:
                raise NotFoundError(f"no sender {sender_id}")
            sender = rows.sender(row, self._sql.time)
            if sender.callback.lower().startswith(("http://", "https://")):
                await tx.run(
                    "INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at) "
                    "SELECT 'sender', id, %s, %s, status_method, %s, %s FROM accounts "
                    "WHERE id = %s",
                    (sender.id, sender.callback, now, now, sender.account_id),
                )
        return sender

    async def sender_verdicts(self, ids: Sequence[int]) -> list[SenderVerdict]:
        wanted = rows.ids_within(ids)
        if not wanted:
            return []
        found = await self._sql.rows(
            "SELECT id, account_id, name, state, reason FROM senders "
            f"WHERE id {self._sql.int_in} ORDER BY id",
            (self._sql.ints(wanted),),
        )
        return [_verdict(row, self._sql.time) for row in found]

    # lockout and the session secret ----------------------------------------------------------
    async def login_failures(self, who: str, since: datetime) -> int:
        row = await self._sql.one(
            "SELECT count(*) FROM login_failures WHERE who = %s AND at >= %s", (who, since)
        )
        assert row is not None
        return int(row[0])

    async def record_login_failure(self, who: str, now: datetime) -> None:
        async with self._sql.tx() as tx:
            await tx.run("INSERT INTO login_failures VALUES (%s, %s)", (who, now))
            # Old rows mean nothing any more: keep the table as small as the window.
            await tx.run("DELETE FROM login_failures WHERE at < %s", (now - timedelta(days=1),))

    async def clear_login_failures(self, who: str) -> None:
        await self._sql.run("DELETE FROM login_failures WHERE who = %s", (who,))

    async def dashboard_secret(self, candidate: str) -> str:
        # The first process to ask stores its candidate; every later one reads that one.
        async with self._sql.tx() as tx:
            await tx.run(
                "INSERT INTO dashboard_secret VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            row = await tx.one("SELECT secret FROM dashboard_secret")
        assert row is not None
        return str(row[0])

    # the cabinet's views ---------------------------------------------------------------------
    async def _id_bound(self, account_id: int, when: datetime, first: bool) -> int | None:
        """The id of the account's first message created at or after `when` (first), or of
        its last one created before `when`: dates become an id range of the keyset walk."""
        if first:
            query = (
                "SELECT id FROM messages WHERE account_id = %s AND created >= %s "
                "ORDER BY created, id LIMIT 1"
            )
        else:
            query = (
                "SELECT id FROM messages WHERE account_id = %s AND created < %s "
                "ORDER BY created DESC, id DESC LIMIT 1"
            )
        row = await self._sql.one(query, (account_id, when))
        return None if row is None else int(row[0])

    async def history(
        self, account_id: int, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        where, args = ["account_id = %s"], list[Any]([account_id])
        span, span_args = ["account_id = %s"], [account_id]  # the id range alone: indexed
        for when, first, op in ((query.since, True, ">="), (query.until, False, "<=")):
            if when is None:
                continue
            bound = await self._id_bound(account_id, when, first)
            if bound is None:
                return HistoryPage(messages=[])
            where += [f"id {op} %s", "created >= %s" if first else "created < %s"]
            args += [bound, when]
            span.append(f"id {op} %s")
            span_args.append(bound)
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
        found = await self._sql.rows(
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT %s",
            (*args, limit),
        )
        messages = [rows.message(row, self._sql.time) for row in found]
        return HistoryPage(messages=messages, searched_to=lowest if len(found) < limit else None)

    async def ledger(self, account_id: int, before_id: int | None, limit: int) -> list[LedgerEntry]:
        found = await self._sql.rows(
            f"SELECT {_LEDGER} FROM ledger WHERE account_id = %s "
            "AND id < %s ORDER BY id DESC LIMIT %s",
            (account_id, before_id if before_id is not None else rows.MAX_ID, limit),
        )
        return [_ledger_entry(row, self._sql.time) for row in found]

    async def callback_attempts(self, account_id: int, server_id: int) -> list[CallbackAttempt]:
        found = await self._sql.rows(
            f"SELECT {_ATTEMPTS} FROM callbacks "
            "WHERE kind = 'status' AND ref = %s AND account_id = %s ORDER BY id",
            (server_id, account_id),
        )
        return [_attempt(row, self._sql.time) for row in found]

    # per-day statistics (storage/*/dashboard.py) ---------------------------------------------
    @staticmethod
    def _day_stats(found: list[Row]) -> list[DayStat]:
        # PostgreSQL's SUM(bigint) is numeric: int() keeps it exact.
        return [
            DayStat(day=EPOCH_DAY + timedelta(days=day), status=status, operator=operator,
                    count=int(count), spend=int(spend))
            for day, status, operator, count, spend in found
        ]  # fmt: skip
