"""SqliteStore: what the web dashboard reads and writes (storage/dashboard.py)."""

from __future__ import annotations

import json
import sqlite3
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
from .core import _MESSAGE_COLUMNS, SqliteCore, _dt, _id_chunks, _message, _opt_dt, _sender, _us

_SENDER = "SELECT id, account_id, name, state, description, callback, created FROM senders "

_EPOCH_DAY = date(1970, 1, 1)


def _operator(row: sqlite3.Row) -> Operator:
    return Operator(id=row[0], email=row[1], password_hash=row[2], created=_dt(row[3]))


class SqliteDashboard(SqliteCore):
    # operators and passwords -----------------------------------------------------------------
    async def add_operator(self, email: str, password_hash: str, now: datetime) -> Operator:
        try:
            with self._tx() as db:
                row = db.execute(
                    "INSERT INTO operators (email, password_hash, created) VALUES (?, ?, ?) "
                    "RETURNING id, email, password_hash, created",
                    (email, password_hash, _us(now)),
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"operator {email} exists") from exc
        return _operator(row)

    async def operator(self, operator_id: int) -> Operator | None:
        rows = self._read(
            "SELECT id, email, password_hash, created FROM operators WHERE id = ?", (operator_id,)
        )
        return _operator(rows[0]) if rows else None

    async def operator_by_email(self, email: str) -> Operator | None:
        rows = self._read(
            "SELECT id, email, password_hash, created FROM operators WHERE email = ?", (email,)
        )
        return _operator(rows[0]) if rows else None

    async def set_operator_password(self, operator_id: int, password_hash: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE operators SET password_hash = ? WHERE id = ?", (password_hash, operator_id)
            )

    async def set_account_password(self, account_id: int, password_hash: str) -> None:
        with self._tx() as db:
            changed = db.execute(
                "UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account_id)
            ).rowcount
        if not changed:
            raise NotFoundError(f"no account {account_id}")

    async def replace_api_keys(self, account_id: int, digest: str, now: datetime) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM api_keys WHERE account_id = ?", (account_id,))
            db.execute("INSERT INTO api_keys VALUES (?, ?, ?)", (digest, account_id, _us(now)))

    # sender names ----------------------------------------------------------------------------
    async def all_senders(self, state: SenderState | None) -> list[Sender]:
        if state is None:
            rows = self._read(_SENDER + "ORDER BY id")
        else:
            rows = self._read(_SENDER + "WHERE state = ? ORDER BY id", (state.value,))
        return [_sender(row) for row in rows]

    async def set_sender_verdict(
        self, sender_id: int, state: SenderState, reason: str, now: datetime
    ) -> Sender:
        with self._tx() as db:
            row = db.execute(
                "UPDATE senders SET state = ?, reason = ? WHERE id = ? RETURNING id, account_id, "
                "name, state, description, callback, created",
                (state.value, reason, sender_id),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no sender {sender_id}")
            sender = _sender(row)
            if sender.callback.lower().startswith(("http://", "https://")):
                db.execute(
                    "INSERT INTO callbacks (kind, account_id, ref, url, method, created, due_at) "
                    "SELECT 'sender', id, ?, ?, status_method, ?, ? FROM accounts WHERE id = ?",
                    (sender.id, sender.callback, _us(now), _us(now), sender.account_id),
                )
        return sender

    async def sender_verdicts(self, ids: Sequence[int]) -> list[SenderVerdict]:
        verdicts = []
        for chunk in _id_chunks(ids):
            rows = self._read(
                "SELECT id, account_id, name, state, reason FROM senders "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(chunk),),
            )
            verdicts += [
                SenderVerdict(sender_id=r[0], account_id=r[1], name=r[2], state=r[3], reason=r[4])
                for r in rows
            ]
        return verdicts

    # lockout and the session secret ----------------------------------------------------------
    async def login_failures(self, who: str, since: datetime) -> int:
        rows = self._read(
            "SELECT count(*) FROM login_failures WHERE who = ? AND at >= ?", (who, _us(since))
        )
        return int(rows[0][0])

    async def record_login_failure(self, who: str, now: datetime) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO login_failures VALUES (?, ?)", (who, _us(now)))
            # Old rows mean nothing any more: keep the table as small as the window.
            db.execute("DELETE FROM login_failures WHERE at < ?", (_us(now - timedelta(days=1)),))

    async def clear_login_failures(self, who: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM login_failures WHERE who = ?", (who,))

    async def dashboard_secret(self, candidate: str) -> str:
        with self._tx() as db:
            db.execute(
                "INSERT INTO dashboard_secret VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            return str(db.execute("SELECT secret FROM dashboard_secret").fetchone()[0])

    # the cabinet's views ---------------------------------------------------------------------
    def _id_bound(self, account_id: int, when: datetime, first: bool) -> int | None:
        """The id of the account's first message created at or after `when` (first), or of
        its last one created before `when`: dates become an id range of the keyset walk."""
        if first:
            sql = (
                "SELECT id FROM messages WHERE account_id = ? AND created >= ? "
                "ORDER BY created, id LIMIT 1"
            )
        else:
            sql = (
                "SELECT id FROM messages WHERE account_id = ? AND created < ? "
                "ORDER BY created DESC, id DESC LIMIT 1"
            )
        rows = self._read(sql, (account_id, _us(when)))
        return int(rows[0][0]) if rows else None

    async def history(
        self, account_id: int, query: HistoryQuery, limit: int, window: int
    ) -> HistoryPage:
        where, args = ["account_id = ?"], [account_id]
        span, span_args = ["account_id = ?"], [account_id]  # the id range alone: indexed
        for when, first, op in ((query.since, True, ">="), (query.until, False, "<=")):
            if when is None:
                continue
            bound = self._id_bound(account_id, when, first)
            if bound is None:
                return HistoryPage(messages=[])
            where.append(f"id {op} ?")
            args.append(bound)
            span.append(f"id {op} ?")
            span_args.append(bound)
            where.append("created >= ?" if first else "created < ?")
            args.append(_us(when))
        if query.before_id is not None:
            span.append("id < ?")
            span_args.append(query.before_id)
        lowest = None
        if query.text:
            # The window-th newest id of the range, and whether an older one follows it.
            edge = self._read(
                f"SELECT id FROM messages WHERE {' AND '.join(span)} "
                "ORDER BY id DESC LIMIT 2 OFFSET ?",
                (*span_args, max(window, 1) - 1),
            )
            if len(edge) == 2:
                lowest = int(edge[0][0])
                where.append("id >= ?")
                args.append(lowest)
        filters: list[tuple[str, Any]] = [
            ("id < ?", query.before_id),
            ("phone = ?", query.phone or None),
            ("status = ?", query.status),
            ("sender = ?", query.sender or None),
            ("channel = ?", query.channel or None),
            ("instr(text, ?) > 0", query.text or None),
        ]
        for clause, value in filters:
            if value is not None:
                where.append(clause)
                args.append(value)
        rows = self._read(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?",
            (*args, limit),
        )
        messages = [_message(row) for row in rows]
        return HistoryPage(messages=messages, searched_to=lowest if len(rows) < limit else None)

    async def ledger(self, account_id: int, before_id: int | None, limit: int) -> list[LedgerEntry]:
        rows = self._read(
            "SELECT id, amount, kind, note, created FROM ledger WHERE account_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (account_id, before_id if before_id is not None else 2**63 - 1, limit),
        )
        return [
            LedgerEntry(id=r[0], amount=r[1], kind=r[2], note=r[3], created=_dt(r[4])) for r in rows
        ]

    async def callback_attempts(self, account_id: int, server_id: int) -> list[CallbackAttempt]:
        rows = self._read(
            "SELECT status, error, url, created, attempts, last_error, done_at, failed "
            "FROM callbacks WHERE kind = 'status' AND ref = ? AND account_id = ? ORDER BY id",
            (server_id, account_id),
        )
        return [
            CallbackAttempt(
                status=r[0],
                error=r[1],
                url=r[2],
                created=_dt(r[3]),
                attempts=r[4],
                last_error=r[5],
                done_at=_opt_dt(r[6]),
                failed=bool(r[7]),
            )
            for r in rows
        ]

    async def fold_statistics(self, limit: int) -> int:
        return 0  # the triggers count in place: SQLite has one writer at a time

    async def daily_stats(self, account_id: int, since: date, until: date) -> list[DayStat]:
        rows = self._read(
            "SELECT day, status, operator, count, spend FROM message_days "
            "WHERE account_id = ? AND day BETWEEN ? AND ? AND count <> 0 ORDER BY day",
            (account_id, (since - _EPOCH_DAY).days, (until - _EPOCH_DAY).days),
        )
        return [
            DayStat(
                day=_EPOCH_DAY + timedelta(days=r[0]),
                status=r[1],
                operator=r[2],
                count=r[3],
                spend=r[4],
            )
            for r in rows
        ]


__all__ = ["SqliteDashboard"]
