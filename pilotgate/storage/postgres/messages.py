"""PostgresStore: what differs in PostgreSQL for messages (the rest is
storage/sql/messages.py): the group commit of `submit` by a flusher task, ids from a sequence,
large batches streamed with COPY, and id lists as one `= ANY` array."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pilotgate.domain import limits, pumping
from pilotgate.domain.idempotency import WINDOW
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Message
from pilotgate.errors import (
    CapReachedError,
    InsufficientFundsError,
    KeyClaimedError,
    StorageError,
)

from ..base import Submitted
from ..dashboard import day_groups
from ..sql import rows as sql_rows, velocity
from ..sql.idempotency import CLAIM
from ..sql.messages import DRAFT_COLUMNS, Pending, SqlMessages, draft_row
from ..sql.usage import COUNT
from .core import PostgresCore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Above this many rows `submit` streams messages with COPY; below, executemany (pipelined)
#: is as fast and skips the COPY set-up.
_COPY_THRESHOLD = 50

#: Binary COPY (a fraction of text COPY's client CPU) needs every column's exact type: these
#: follow DRAFT_COLUMNS as the migrations declare them. A mismatch fails loudly ("incorrect
#: binary data format"), never silently.
_COPY_TYPES = [
    "int8", "int8", "int8", "text", "text", "text", "text", "int4", "text", "int8",
    "int2", "int4", "timestamptz", "int4", "text", "text", "timestamptz", "timestamptz",
    "text", "text", "bool", "text", "text", "timestamptz", "timestamptz", "text", "text", "int2",
]  # fmt: skip

_INSERT = f"INSERT INTO messages ({DRAFT_COLUMNS}) VALUES ({', '.join(['%s'] * 28)})"
_COPY = f"COPY messages ({DRAFT_COLUMNS}) FROM STDIN (FORMAT BINARY)"


def _same(when: datetime) -> datetime:
    return when


class _Refused(Exception):
    """Rolls a guarded submit back to its savepoint, carrying why."""

    def __init__(self, why: StorageError) -> None:
        self.why = why


_DEBIT = (
    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s RETURNING balance"
)


async def _debit_one(conn: Any, account_id: int, drafts: Sequence[Draft]) -> int:
    # Held messages are not charged yet, but the balance must cover them too.
    cost, need = pumping.charged(drafts), sum(draft.price for draft in drafts)
    cursor = await conn.execute(_DEBIT, (cost, account_id, need))
    row = await cursor.fetchone()
    if row is None:
        raise _Refused(InsufficientFundsError(f"account {account_id} cannot pay {need}"))
    return int(row[0])


async def _guard(
    conn: Any, account_id: int, drafts: Sequence[Draft], now: datetime, guard: SubmitGuard
) -> None:
    """Claim the submit's idempotency key and count it against its caps, or raise _Refused.
    A live claim of another transaction makes the INSERT wait for that one to end."""
    if guard.claim is not None:
        claim = guard.claim
        cursor = await conn.execute(
            CLAIM, (account_id, claim.key, claim.fingerprint, now, now - WINDOW)
        )
        if await cursor.fetchone() is None:
            raise _Refused(KeyClaimedError(f"account {account_id}: key claimed"))
    if guard.caps:
        count = limits.counted(drafts)
        for period, start, cap in limits.periods(guard.caps, now):
            cursor = await conn.execute(COUNT, (account_id, period, start, count, count, cap, cap))
            if await cursor.fetchone() is None:
                raise _Refused(CapReachedError(f"account {account_id}: {period} cap {cap}"))


async def _debit(
    conn: Any, batch: list[Pending], outcomes: list[Submitted | StorageError]
) -> dict[int, int]:
    """Debit each submit of the batch (and claim and count a guarded one, within a
    savepoint): its new balance by its index; a refused one gets its error in `outcomes`
    and writes nothing. In account order, the account's row locked first: two processes'
    batches then lock rows in the same order and cannot deadlock."""
    balances: dict[int, int] = {}
    by_account: dict[int, list[int]] = {}
    for index in sorted(range(len(batch)), key=lambda i: batch[i][0]):
        by_account.setdefault(batch[index][0], []).append(index)
    for account_id, indexes in by_account.items():
        # Unguarded (or guarded only by the velocity counters, which take no lock).
        plain = [i for i in indexes if not _locks(batch[i][4])]
        await _debit_plain(conn, account_id, plain, batch, outcomes, balances)
        for index in indexes:
            _, drafts, now, _, guard = batch[index]
            if index in plain or guard is None:
                continue
            try:
                async with conn.transaction():  # a savepoint: a refusal undoes all three
                    # The account's row first, as every submit locks it first; then the
                    # claim and the caps, refused before the money as in SQLite.
                    await conn.execute(
                        "SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (account_id,)
                    )
                    await _guard(conn, account_id, drafts, now, guard)
                    balances[index] = await _debit_one(conn, account_id, drafts)
            except _Refused as refused:
                outcomes[index] = refused.why
    return balances


def _locks(guard: SubmitGuard | None) -> bool:
    return guard is not None and guard.locks


async def _debit_plain(
    conn: Any,
    account_id: int,
    indexes: list[int],
    batch: list[Pending],
    outcomes: list[Submitted | StorageError],
    balances: dict[int, int],
) -> None:
    """The account's unguarded submits of the batch: one UPDATE for their sum when the
    balance covers it (the usual case: concurrent sends of one account cost one statement,
    not one round trip each), each submit's balance as if debited one after the other;
    else one by one, so the ones the money covers still go."""
    costs = [pumping.charged(batch[index][1]) for index in indexes]
    if len(indexes) > 1:
        # Held messages are not charged yet, but the balance must cover them too.
        total = sum(costs)
        need = sum(draft.price for index in indexes for draft in batch[index][1])
        cursor = await conn.execute(_DEBIT, (total, account_id, need))
        row = await cursor.fetchone()
        if row is not None:
            left = int(row[0]) + total
            for index, cost in zip(indexes, costs, strict=True):
                left -= cost
                balances[index] = left
            return
    for index in indexes:
        try:
            balances[index] = await _debit_one(conn, account_id, batch[index][1])
        except _Refused as refused:
            outcomes[index] = refused.why


async def _judge(conn: Any, batch: list[Pending]) -> dict[int, list[Draft]]:
    """The SMS-pumping rules (velocity.judging) over the batch, before any account row is
    locked (no deadlock)."""
    judged: list[velocity.Judged] = [
        (guard.velocity if guard else None, drafts, now) for _, drafts, now, _, guard in batch
    ]
    steps = velocity.judging(judged, _same, _same)
    try:
        statement = next(steps)
        while True:
            cursor = await conn.execute(*statement)
            statement = steps.send(await cursor.fetchall())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class PostgresMessages(SqlMessages, PostgresCore):
    # messages ----------------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        # A flusher task: while it writes one batch (COPY, one fsync), the next gathers.
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_submits())

    async def _flush_submits(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            outcomes: Sequence[Submitted | BaseException]
            try:
                outcomes = await self._submit_batch(batch)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
                outcomes = self._failed(exc, batch)
            self._answer(batch, outcomes)

    async def _submit_batch(self, batch: list[Pending]) -> list[Submitted | StorageError]:
        outcomes: list[Submitted | StorageError] = [StorageError("not written")] * len(batch)
        async with self._tx() as conn:
            judged = await _judge(conn, batch)
            batch = [
                (a, judged.get(i, drafts), now, f, g)
                for i, (a, drafts, now, f, g) in enumerate(batch)
            ]
            balances = await _debit(conn, batch, outcomes)
            total = sum(len(batch[index][1]) for index in balances)
            cursor = await conn.execute(
                "SELECT nextval('message_ids') FROM generate_series(1, %s)", (total,)
            )
            # Sorted ids, handed out in request order: each packet's ids increase in draft
            # order, and the smallest one names the packet.
            ids = iter(sorted(int(r[0]) for r in await cursor.fetchall()))
            rows: list[tuple[Any, ...]] = []
            ledger: list[tuple[Any, ...]] = []
            for index, (account_id, drafts, now, _, _) in enumerate(batch):
                if index not in balances:
                    continue
                server_ids = [next(ids) for _ in drafts]
                first = server_ids[0] if server_ids else 0
                rows.extend(
                    draft_row(server_id, first, account_id, d, now, _same)
                    for server_id, d in zip(server_ids, drafts, strict=True)
                )
                cost = pumping.charged(drafts)
                if cost:
                    ledger.append(
                        (account_id, -cost, "send", first, f"{len(drafts)} messages", now)
                    )
                outcomes[index] = Submitted(
                    server_ids=server_ids, balance=balances[index], held=velocity.held(drafts)
                )
            async with conn.cursor() as cur:
                if len(rows) > _COPY_THRESHOLD:
                    async with cur.copy(_COPY) as copy:
                        copy.set_types(_COPY_TYPES)
                        for message in rows:
                            await copy.write_row(message)
            # One pipeline for the rest: the three inserts cost one round trip, not three
            # (COPY cannot run in a pipeline, hence above).
            async with conn.pipeline(), conn.cursor() as cur:
                if rows and len(rows) <= _COPY_THRESHOLD:
                    await cur.executemany(_INSERT, rows)
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
        wanted = [i for i in ids if -sql_rows.MAX_ID <= i <= sql_rows.MAX_ID]
        if not wanted:
            return []
        # The bigint[] cast matters: psycopg sends small ints as smallint[], and a cross-type
        # `= ANY` is a linear scan of the array per row instead of a hash lookup.
        found = await self._sql.rows(
            f"SELECT {sql_rows.MESSAGE_COLUMNS} FROM messages "
            "WHERE account_id = %s AND id = ANY(%s::bigint[]) ORDER BY id",
            (account_id, wanted),
        )
        return [sql_rows.message(row, self._sql.time) for row in found]
