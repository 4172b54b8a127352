"""SqliteStore: what differs in SQLite for messages (the rest is storage/sql/messages.py):
the synchronous group commit of `submit`, and id lists in chunks SQLite's parameter limit
allows."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pilotgate.domain import limits, pumping
from pilotgate.domain.idempotency import WINDOW
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Message
from pilotgate.errors import CapReachedError, InsufficientFundsError, KeyClaimedError

from ..base import Submitted
from ..dashboard import day_groups
from ..sql import rows as sql_rows, velocity
from ..sql.idempotency import CLAIM
from ..sql.messages import DRAFT_COLUMNS, SqlMessages, draft_row
from ..sql.usage import COUNT
from .core import SqliteCore
from .driver import micros, stored_time

#: The first server_id of a new database (API-1 answers read better with five digits).
FIRST_SERVER_ID = 10000
_DAY_US = 86_400_000_000
_CLAIM = CLAIM.replace("%s", "?")
_COUNT = COUNT.replace("%s", "?")
_INSERT = f"INSERT INTO messages ({DRAFT_COLUMNS}) VALUES ({','.join('?' * 28)})"
_COUNT_DAYS = (
    "INSERT INTO message_days (account_id, day, status, operator, count, spend) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day, status, operator) "
    "DO UPDATE SET count = count + excluded.count, spend = spend + excluded.spend"
)


class SqliteMessages(SqlMessages, SqliteCore):
    # messages ----------------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        # Synchronous: the batch is everything that arrived while the event loop was busy.
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush_submits)

    def _flush_submits(self) -> None:
        # On the raw connection, with times converted once per submit: the driver's own
        # conversion would look at every argument of every row.
        batch, self._pending = self._pending, []
        results: Sequence[Submitted | BaseException] = []
        try:
            with self._sql.sync_tx() as db:
                last = db.execute("SELECT MAX(id) FROM messages").fetchone()[0]
                next_id = max(FIRST_SERVER_ID, (last or 0) + 1)
                rows: list[tuple[Any, ...]] = []
                outcomes: list[Submitted | BaseException] = []
                judged = _judge(db, batch)
                for index, (account_id, drafts, now, _, guard) in enumerate(batch):
                    drafts = judged.get(index, drafts)
                    outcome = self._submit_one(db, account_id, drafts, now, next_id, rows, guard)
                    outcomes.append(outcome)
                    if isinstance(outcome, Submitted):
                        next_id += len(drafts)
                db.executemany(_INSERT, rows)
                # The dashboard's per-day statistics (0011_dashboard), a row per group.
                db.executemany(
                    _COUNT_DAYS,
                    day_groups((r[2], r[16] // _DAY_US, r[10], r[19], r[9]) for r in rows),
                )
            results = outcomes
        except Exception as exc:  # noqa: BLE001 - every waiter must hear of a failed commit
            results = self._failed(exc, batch)
        self._answer(batch, results)

    @staticmethod
    def _submit_one(
        db: sqlite3.Connection,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        first: int,
        rows: list[tuple[Any, ...]],
        guard: SubmitGuard | None,
    ) -> Submitted | BaseException:
        """Debit and queue the rows of one submit. A guarded one (an idempotency key,
        caps) first claims its key and counts its messages, within a savepoint: any refusal
        rolls back to it, leaving nothing of this submit behind."""
        if guard is None or not guard.locks:
            return _debit_and_queue(db, account_id, drafts, now, first, rows)
        db.execute("SAVEPOINT guarded")
        outcome = _guard(db, account_id, drafts, now, guard) or _debit_and_queue(
            db, account_id, drafts, now, first, rows
        )
        if not isinstance(outcome, Submitted):
            db.execute("ROLLBACK TO guarded")
        db.execute("RELEASE guarded")
        return outcome

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        found: list[Message] = []
        wanted = [i for i in ids if -sql_rows.MAX_ID <= i <= sql_rows.MAX_ID]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            found.extend(
                sql_rows.message(row, self._sql.time)
                for row in await self._sql.rows(
                    f"SELECT {sql_rows.MESSAGE_COLUMNS} FROM messages "
                    f"WHERE account_id = %s AND id IN ({marks})",
                    [account_id, *chunk],
                )
            )
        return found


def _guard(
    db: sqlite3.Connection,
    account_id: int,
    drafts: Sequence[Draft],
    now: datetime,
    guard: SubmitGuard,
) -> BaseException | None:
    """Claim the submit's idempotency key and count it against its caps; the refusal, or
    None."""
    if guard.claim is not None:
        claim = guard.claim
        claimed = db.execute(
            _CLAIM, (account_id, claim.key, claim.fingerprint, micros(now), micros(now - WINDOW))
        ).fetchone()
        if claimed is None:
            return KeyClaimedError(f"account {account_id}: key already claimed")
    if guard.caps:
        count = limits.counted(drafts)
        for period, start, cap in limits.periods(guard.caps, now):
            args = (account_id, period, micros(start), count, count, cap, cap)
            if db.execute(_COUNT, args).fetchone() is None:
                return CapReachedError(f"account {account_id}: {period} cap {cap}")
    return None


def _debit_and_queue(
    db: sqlite3.Connection,
    account_id: int,
    drafts: Sequence[Draft],
    now: datetime,
    first: int,
    rows: list[tuple[Any, ...]],
) -> Submitted | BaseException:
    """Debit and queue the rows of one submit; the debit is the first write, so a refusal
    leaves nothing of it behind."""
    # Held messages are not charged yet, but the balance must cover them too.
    cost, need = pumping.charged(drafts), sum(draft.price for draft in drafts)
    balance = db.execute(
        "UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ? RETURNING balance",
        (cost, account_id, need),
    ).fetchone()
    if balance is None:
        return InsufficientFundsError(f"account {account_id} cannot pay {need}")
    stamp = micros(now)
    ids = list(range(first, first + len(drafts)))
    rows.extend(
        draft_row(server_id, first, account_id, d, stamp, micros)
        for server_id, d in zip(ids, drafts, strict=True)
    )
    if cost:
        db.execute(
            "INSERT INTO ledger (account_id, amount, kind, ref, note, created) "
            "VALUES (?,?,?,?,?,?)",
            (account_id, -cost, "send", first, f"{len(drafts)} messages", stamp),
        )
    return Submitted(server_ids=ids, balance=int(balance[0]), held=velocity.held(drafts))


def _judge(db: sqlite3.Connection, batch: Sequence[Any]) -> dict[int, list[Draft]]:
    """The SMS-pumping rules (velocity.judging) over the batch."""
    judged: list[velocity.Judged] = [
        (guard.velocity if guard else None, drafts, now) for _, drafts, now, _, guard in batch
    ]
    steps = velocity.judging(judged, micros, stored_time)
    try:
        sql, args = next(steps)
        while True:
            sql, args = steps.send(db.execute(sql.replace("%s", "?"), args).fetchall())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
