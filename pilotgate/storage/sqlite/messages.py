"""SqliteStore: messages as the API sees them (submit, check, history) and inbound SMS."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pilotgate.domain import hybrid
from pilotgate.domain.messages import Draft, Message
from pilotgate.errors import InsufficientFundsError, StorageError

from ..base import (
    InboundSms,
    Submitted,
)
from ..dashboard import day_groups
from .core import (
    _INSERT_COLUMNS,
    _MAX_ID,
    _MESSAGE_COLUMNS,
    FIRST_SERVER_ID,
    SqliteCore,
    _dt,
    _message,
    _us,
)

_DAY_US = 86_400_000_000
_COUNT_DAYS = (
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day, status, operator) "
    "DO UPDATE SET count = count + excluded.count, spend = spend + excluded.spend"
)


class SqliteMessages(SqliteCore):
    # messages ----------------------------------------------------------------------------------
    async def submit(self, account_id: int, drafts: Sequence[Draft], now: datetime) -> Submitted:
        # Group commit: submits that arrive while the event loop is busy are written in one
        # transaction, and each caller is answered only after that COMMIT. Concurrent single
        # sends then cost one commit per batch instead of one each.
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Submitted] = loop.create_future()
        self._pending.append((account_id, drafts, now, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush_submits)
        return await future

    def _flush_submits(self) -> None:
        batch, self._pending = self._pending, []
        results: list[Submitted | BaseException] = []
        try:
            with self._tx() as db:
                last = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
                next_id = max(FIRST_SERVER_ID, (last or 0) + 1)
                rows: list[tuple[Any, ...]] = []
                for account_id, drafts, now, _ in batch:
                    outcome = self._submit_one(db, account_id, drafts, now, next_id, rows)
                    results.append(outcome)
                    if isinstance(outcome, Submitted):
                        next_id += len(drafts)
                db.executemany(
                    f"INSERT INTO messages ({_INSERT_COLUMNS}, due_at, expires_at, fallback, "
                    "client_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                # The dashboard's per-day statistics (0011_dashboard), a row per group.
                db.executemany(
                    _COUNT_DAYS,
                    day_groups((r[2], r[16] // _DAY_US, r[10], r[19], r[9]) for r in rows),
                )
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
            error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
            results = [error] * len(batch)
        for (_, _, _, future), outcome in zip(batch, results, strict=True):
            if future.done():
                continue  # the caller went away (cancelled); its rows are committed anyway
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    @staticmethod
    def _submit_one(
        db: sqlite3.Connection,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        first: int,
        rows: list[tuple[Any, ...]],
    ) -> Submitted | BaseException:
        """Debit and queue the rows of one submit; the debit is the first write, so a refusal
        leaves nothing of this submit behind."""
        cost = sum(draft.price for draft in drafts)
        balance = db.execute(
            "UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ? "
            "RETURNING balance",
            (cost, account_id, cost),
        ).fetchone()
        if balance is None:
            return InsufficientFundsError(f"account {account_id} cannot pay {cost}")
        stamp = _us(now)
        ids = list(range(first, first + len(drafts)))
        rows.extend(
            (
                server_id,
                first,
                account_id,
                d.phone,
                d.sender,
                d.sender_orig,
                d.text,
                d.parts,
                d.channel,
                d.price,
                int(d.status),
                d.error,
                None if d.send_datetime is None else _us(d.send_datetime),
                d.ttl,
                d.callback,
                d.callback_method,
                stamp,
                stamp,
                d.country,
                d.operator,
                int(d.test),
                d.route,
                d.ping_route,
                _us(d.send_datetime) if d.send_datetime is not None else stamp,
                None if d.expires_at is None else _us(d.expires_at),
                hybrid.encode(d.fallback),
                d.client_id,
            )
            for server_id, d in zip(ids, drafts, strict=True)
        )
        if cost:
            db.execute(
                "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                "VALUES (?,?,?,?,?,?)",
                (account_id, -cost, "send", first, f"{len(drafts)} messages", stamp),
            )
        return Submitted(server_ids=ids, balance=int(balance[0]))

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        found: list[Message] = []
        ids = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.extend(
                _message(row)
                for row in self._read(
                    f"SELECT {_MESSAGE_COLUMNS} FROM messages "
                    f"WHERE account_id = ? AND id IN ({marks})",
                    [account_id, *chunk],
                )
            )
        return found

    async def find_messages(
        self,
        account_id: int,
        *,
        since: datetime | None = None,
        packet_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Message]:
        if packet_id is not None:
            if not -_MAX_ID <= packet_id <= _MAX_ID:
                return []
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE packet_id = ? "
                "AND account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
            )
            args: list[Any] = [packet_id, account_id, limit, offset]
        elif since is None:
            # The newest first, straight down the (account_id, id) index. With `created >= 0`
            # SQLite chose the (account_id, created) index and sorted every message of the
            # account: 600 ms for the cabinet's overview at a million messages.
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE account_id = ? "
                "ORDER BY id DESC LIMIT ? OFFSET ?"
            )
            args = [account_id, limit, offset]
        else:
            sql = (
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE account_id = ? "
                "AND created >= ? ORDER BY id DESC LIMIT ? OFFSET ?"
            )
            args = [account_id, _us(since), limit, offset]
        return [_message(row) for row in self._read(sql, args)]

    # inbound -----------------------------------------------------------------------------------
    async def add_inbound(
        self,
        account_id: int,
        phone: str,
        num: str,
        text: str,
        now: datetime,
        server_id: int | None = None,
        *,
        stop: bool = False,
    ) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO inbound (account_id, phone, num, text, created, server_id) "
                "VALUES (?,?,?,?,?,?)",
                (account_id, phone, num, text, _us(now), server_id),
            )
            if stop:
                db.execute(
                    "INSERT INTO stop_list (account_id, phone, reason, created) "
                    "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                    (account_id, phone, "inbound stop word", _us(now)),
                )
            return int(cursor.lastrowid or 0)

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[InboundSms]:
        columns = "id, account_id, phone, num, text, created, server_id"
        with self._tx() as db:
            if only_new:
                rows = db.execute(
                    f"UPDATE inbound SET fetched = 1 WHERE account_id = ? AND fetched = 0 "
                    f"RETURNING {columns}",
                    (account_id,),
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {columns} FROM inbound WHERE account_id = ? AND created > ?",
                    (account_id, _us(since) if since else -1),
                ).fetchall()
        items = [
            InboundSms(
                id=r[0],
                account_id=r[1],
                phone=r[2],
                num=r[3],
                text=r[4],
                created=_dt(r[5]),
                server_id=r[6],
            )
            for r in rows
        ]
        return sorted(items, key=lambda item: item.id, reverse=True)
