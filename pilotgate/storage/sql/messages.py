"""The store's messages as the API sees them (submit, check, history); with the cancels
(sql/cancels.py) and replaces (sql/replaces.py) of scheduled ones, `MessageStore`.

How `submit`'s group commit writes stays with each dialect (`_flush_soon`: `SqliteStore`,
`PostgresStore`): synchronous in SQLite, a flusher task with COPY in PostgreSQL. What both
write, the queueing of a submit and how both answer the waiting callers is here.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pilotgate.domain import hybrid
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Message
from pilotgate.errors import StorageError

from ..base import Submitted
from . import rows
from .cancels import SqlCancels
from .replaces import SqlReplaces
from .retention import first_id

#: A submit waiting for its batch's COMMIT: account, drafts, now, its caller, and what it
#: must respect besides the balance (its idempotency claim, caps; domain/limits.py), if any.
Pending = tuple[int, Sequence[Draft], datetime, "asyncio.Future[Submitted]", SubmitGuard | None]

#: The columns `draft_row` fills, in its order.
DRAFT_COLUMNS = rows.INSERT_COLUMNS + ", due_at, expires_at, fallback, client_id, smpp_receipt"

_SELECT_MESSAGE = f"SELECT {rows.MESSAGE_COLUMNS} FROM messages "


def draft_row(
    server_id: int,
    packet_id: int,
    account_id: int,
    d: Draft,
    now: Any,
    stored: Callable[[datetime], Any],
) -> tuple[Any, ...]:
    """A new message's row in `DRAFT_COLUMNS` order. `now` is already in the database's time
    (the caller converts it once per submit) and `stored` converts the draft's own times.
    Enums go in as plain ints/bools: psycopg would dump an Enum by its name."""
    scheduled = None if d.send_datetime is None else stored(d.send_datetime)
    return (
        server_id,
        packet_id,
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
        scheduled,
        d.ttl,
        d.callback,
        d.callback_method,
        now,
        now,
        d.country,
        d.operator,
        bool(d.test),
        d.route,
        d.ping_route,
        now if scheduled is None else scheduled,
        None if d.expires_at is None else stored(d.expires_at),
        hybrid.encode(d.fallback),
        d.client_id,
        d.smpp_receipt,
    )


class MessageStore(SqlCancels, SqlReplaces):
    """Accepting messages and reading them back for their owner."""

    _pending: list[Pending]

    async def submit(
        self,
        account_id: int,
        drafts: Sequence[Draft],
        now: datetime,
        guard: SubmitGuard | None = None,
    ) -> Submitted:
        """Store the drafts and debit their total price in one transaction. The first
        server_id is the packet id. Raises InsufficientFundsError (nothing stored). With a
        `guard`, in the same transaction: its idempotency key is claimed (a key another
        submit claimed within `idempotency.WINDOW` raises KeyClaimedError) and its messages
        counted against its caps (passing one raises CapReachedError); nothing is stored
        when either refuses."""
        # Group commit: submits that arrive while a batch is being written wait and go
        # together in the next transaction, and each caller is answered only after that
        # COMMIT. Concurrent single sends then cost one commit (one fsync) per batch.
        future: asyncio.Future[Submitted] = asyncio.get_running_loop().create_future()
        self._pending.append((account_id, drafts, now, future, guard))
        self._flush_soon()
        return await future

    @abstractmethod
    def _flush_soon(self) -> None:
        """Make sure the pending submits are written: each dialect's group commit."""

    # messages ----------------------------------------------------------------------------------
    @staticmethod
    def _answer(batch: Sequence[Pending], outcomes: Sequence[Submitted | BaseException]) -> None:
        """Answer every caller of a written (or failed) batch."""
        for (_, _, _, future, _), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue  # the caller went away (cancelled); its rows are committed anyway
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    @staticmethod
    def _failed(exc: Exception, batch: Sequence[Pending]) -> list[StorageError]:
        """Every waiter must hear of a failed commit, as a StorageError."""
        error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
        return [error] * len(batch)

    async def messages_by_id(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        """The account's own messages among `ids` (others' ids are simply absent)."""
        source = f"{rows.MESSAGE_COLUMNS} FROM messages WHERE account_id = %s AND"
        return await self._by_ids(rows.message, source, ids, (account_id,))

    async def find_messages(
        self,
        account_id: int,
        *,
        since: datetime | None = None,
        packet_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Message]:
        """The account's messages, newest first, optionally created after `since` or in one
        packet."""
        if packet_id is not None:
            if not -rows.MAX_ID <= packet_id <= rows.MAX_ID:
                return []
            query = "WHERE packet_id = %s AND account_id = %s ORDER BY id DESC LIMIT %s OFFSET %s"
            args: tuple[Any, ...] = (packet_id, account_id, limit, offset)
        elif since is None:
            # The newest first, straight down the (account_id, id) index. With `created >= 0`
            # SQLite chose the (account_id, created) index and sorted every message of the
            # account: 600 ms for the cabinet's overview at a million messages.
            query = "WHERE account_id = %s ORDER BY id DESC LIMIT %s OFFSET %s"
            args = (account_id, limit, offset)
        else:
            # Down the same index to an id bound: there is no index on `created` (0033).
            bound = await first_id(self._sql, "messages", since)
            if bound is None:
                return []
            query = (
                "WHERE account_id = %s AND id >= %s AND created >= %s "
                "ORDER BY id DESC LIMIT %s OFFSET %s"
            )
            args = (account_id, bound, since, limit, offset)
        return await self._all(rows.message, _SELECT_MESSAGE + query, args)
