"""PostgresStore: messages as the API sees them (submit, check, history) and inbound SMS."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql

from pilotgate.domain.messages import Draft, Message
from pilotgate.errors import InsufficientFundsError, StorageError

from ..base import (
    InboundSms,
    Submitted,
)
from ..dashboard import day_groups
from .core import (
    _COPY_MESSAGES,
    _COPY_THRESHOLD,
    _COPY_TYPES,
    _EPOCH,
    _INBOUND_COLUMNS,
    _INSERT_MESSAGE,
    _MAX_ID,
    _SELECT_MESSAGE,
    PostgresCore,
    _inbound,
    _message,
    _message_row,
    _PendingSubmit,
)


class PostgresMessages(PostgresCore):
    # messages ----------------------------------------------------------------------------------
    async def submit(self, account_id: int, drafts: Sequence[Draft], now: datetime) -> Submitted:
        # Group commit: submits that arrive while a batch is being written wait and go
        # together in the next transaction; every caller is answered after its COMMIT. One
        # fsync then serves many concurrent single sends.
        future: asyncio.Future[Submitted] = asyncio.get_running_loop().create_future()
        self._pending.append((account_id, drafts, now, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_submits())
        return await future

    async def _flush_submits(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await self._submit_batch(batch)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
                error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
                outcomes = [error] * len(batch)
            for (_, _, _, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # the caller went away; its rows are committed anyway
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _submit_batch(self, batch: list[_PendingSubmit]) -> list[Submitted | StorageError]:
        outcomes: list[Submitted | StorageError] = [StorageError("not written")] * len(batch)
        async with self._tx() as conn:
            # Debit in account order: two processes' batches then lock accounts in the same
            # order and cannot deadlock. A refused debit writes nothing for that submit.
            balances: dict[int, int] = {}
            for index in sorted(range(len(batch)), key=lambda i: batch[i][0]):
                account_id, drafts, _, _ = batch[index]
                cost = sum(draft.price for draft in drafts)
                cursor = await conn.execute(
                    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s "
                    "RETURNING balance",
                    (cost, account_id, cost),
                )
                row = await cursor.fetchone()
                if row is None:
                    outcomes[index] = InsufficientFundsError(
                        f"account {account_id} cannot pay {cost}"
                    )
                else:
                    balances[index] = int(row[0])
            total = sum(len(batch[index][1]) for index in balances)
            cursor = await conn.execute(
                "SELECT nextval('message_ids') FROM generate_series(1, %s)", (total,)
            )
            # Sorted ids, handed out in request order: each packet's ids increase in draft
            # order, and the smallest one names the packet.
            ids = iter(sorted(int(r[0]) for r in await cursor.fetchall()))
            rows: list[tuple[Any, ...]] = []
            ledger: list[tuple[Any, ...]] = []
            for index, (account_id, drafts, now, _) in enumerate(batch):
                if index not in balances:
                    continue
                server_ids = [next(ids) for _ in drafts]
                first = server_ids[0] if server_ids else 0
                rows.extend(
                    _message_row(server_id, first, account_id, d, now)
                    for server_id, d in zip(server_ids, drafts, strict=True)
                )
                cost = sum(draft.price for draft in drafts)
                if cost:
                    ledger.append(
                        (account_id, -cost, "send", first, f"{len(drafts)} messages", now)
                    )
                outcomes[index] = Submitted(server_ids=server_ids, balance=balances[index])
            async with conn.cursor() as cur:
                if len(rows) > _COPY_THRESHOLD:
                    async with cur.copy(_COPY_MESSAGES) as copy:
                        copy.set_types(_COPY_TYPES)
                        for message in rows:
                            await copy.write_row(message)
                elif rows:
                    await cur.executemany(_INSERT_MESSAGE, rows)
                if ledger:
                    await cur.executemany(
                        "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        ledger,
                    )
                if rows:  # the dashboard's per-day statistics (0011_dashboard)
                    await cur.executemany(
                        "INSERT INTO message_day_deltas (account_id, day, status, operator, "
                        "count, spend) VALUES (%s, %s, %s, %s, %s, %s)",
                        day_groups((r[2], (r[16] - _EPOCH).days, r[10], r[19], r[9]) for r in rows),
                    )
        return outcomes

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        if not wanted:
            return []
        # The bigint[] cast matters: psycopg sends small ints as smallint[], and a cross-type
        # `= ANY` is a linear scan of the array per row instead of a hash lookup.
        rows = await self._rows(
            _SELECT_MESSAGE
            + sql.SQL("WHERE account_id = %s AND id = ANY(%s::bigint[]) ORDER BY id"),
            (account_id, wanted),
        )
        return [_message(row) for row in rows]

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
            query = _SELECT_MESSAGE + sql.SQL(
                "WHERE packet_id = %s AND account_id = %s ORDER BY id DESC LIMIT %s OFFSET %s"
            )
            args: tuple[Any, ...] = (packet_id, account_id, limit, offset)
        else:
            query = _SELECT_MESSAGE + sql.SQL(
                "WHERE account_id = %s AND created >= %s ORDER BY id DESC LIMIT %s OFFSET %s"
            )
            args = (account_id, since or _EPOCH, limit, offset)
        return [_message(row) for row in await self._rows(query, args)]

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
        insert: LiteralString = (
            "INSERT INTO inbound (account_id, phone, num, text, created, server_id) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
        )
        if not stop:  # one statement, autocommitted: no BEGIN/COMMIT round trips
            rows = await self._rows(insert, (account_id, phone, num, text, now, server_id))
            return int(rows[0][0])
        async with self._tx() as conn:
            cursor = await conn.execute(insert, (account_id, phone, num, text, now, server_id))
            row = await cursor.fetchone()
            await conn.execute(
                "INSERT INTO stop_list (account_id, phone, reason, created) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (account_id, phone, "inbound stop word", now),
            )
        assert row is not None
        return int(row[0])

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[InboundSms]:
        if only_new:
            # One statement reads and marks, so two pollers never both get the same row.
            query = sql.SQL(
                "UPDATE inbound SET fetched = true WHERE account_id = %s AND NOT fetched "
                "RETURNING {}"
            ).format(_INBOUND_COLUMNS)
            args: tuple[Any, ...] = (account_id,)
        elif since is None:
            query = sql.SQL("SELECT {} FROM inbound WHERE account_id = %s").format(_INBOUND_COLUMNS)
            args = (account_id,)
        else:
            query = sql.SQL("SELECT {} FROM inbound WHERE account_id = %s AND created > %s").format(
                _INBOUND_COLUMNS
            )
            args = (account_id, since)
        items = [_inbound(row) for row in await self._rows(query, args)]
        return sorted(items, key=lambda item: item.id, reverse=True)
