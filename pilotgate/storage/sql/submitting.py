"""The group commit of `submit`, written once for both dialects and doing no I/O itself:
`committing` yields each statement to run in the batch's transaction and is sent its rows
back; it returns each submit's outcome and the rows to insert in bulk. Each dialect only
runs it (SqliteStore synchronously on the raw connection, PostgresStore awaiting each
statement, then COPY or a pipeline for the bulk rows) and allocates the ids its way (`Ids`).

In order: the SMS-pumping rules (velocity.judging, before any account row is locked), then
the debits, then the ids, handed out sorted in request order to the submits that were
debited (each packet's ids increase in draft order; the smallest one names the packet)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pilotgate.domain import limits, pumping, submits
from pilotgate.domain.idempotency import WINDOW
from pilotgate.domain.messages import Draft
from pilotgate.errors import CapReachedError, InsufficientFundsError, KeyClaimedError, StorageError

from ..base import Submitted
from . import velocity
from .idempotency import CLAIM
from .messages import Pending, draft_row
from .protections import COUNT

_DEBIT = (
    "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s RETURNING balance"
)


@dataclass(frozen=True, slots=True)
class Ids:
    """Ask the runner for `count` new message ids (SQLite: after MAX(id); PostgreSQL: the
    sequence); it sends them back as rows of one id each, in any order."""

    count: int


@dataclass(frozen=True, slots=True)
class SubmitDialect:
    """What the shared group commit needs to know of a database: how it writes a time
    (`stamp`) and reads one back (`time`), and the statement that locks an account's row
    before its claim and caps (PostgreSQL; SQLite's write transaction already holds the
    whole database)."""

    stamp: Callable[[datetime], Any]
    time: Callable[[Any], datetime]
    lock: str | None


@dataclass(slots=True)
class Written:
    """What a batch commits: each submit's outcome, and the rows the runner inserts in
    bulk (messages in `messages.DRAFT_COLUMNS` order, the ledger's for `money.LEDGER`,
    the per-day statistics as `domain.submits.day_groups` gives them)."""

    outcomes: list[Submitted | StorageError]
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    days: list[tuple[int, int, int, str, int, int]] = field(default_factory=list)


#: One step of the group commit: a statement (sql with `%s` placeholders, args) or `Ids`.
Step = tuple[str, Sequence[Any]] | Ids
Steps = Generator[Step, velocity.Rows, Written]


class _Refused(Exception):
    """Rolls a guarded submit back to its savepoint, carrying why."""

    def __init__(self, why: StorageError) -> None:
        self.why = why


def committing(batch: Sequence[Pending], dialect: SubmitDialect) -> Steps:
    """The whole group commit of `batch`, to be run in one transaction."""
    judged = yield from velocity.judging(
        [(guard.velocity if guard else None, drafts, now) for _, drafts, now, _, guard in batch],
        dialect.stamp,
        dialect.time,
    )
    drafts_of = [judged.get(i, pending[1]) for i, pending in enumerate(batch)]
    written = Written([StorageError("not written")] * len(batch))
    balances = yield from _debits(batch, drafts_of, dialect, written.outcomes)
    total = sum(len(drafts_of[index]) for index in balances)
    ids = iter(sorted(int(row[0]) for row in (yield Ids(total)))) if total else iter(())
    stamp = dialect.stamp
    days: list[tuple[int, int, int, str, int]] = []
    for index, (account_id, _, now, _, _) in enumerate(batch):
        if index not in balances:
            continue
        drafts = drafts_of[index]
        server_ids = [next(ids) for _ in drafts]
        first = server_ids[0] if server_ids else 0
        created = stamp(now)
        written.messages.extend(
            draft_row(server_id, first, account_id, d, created, stamp)
            for server_id, d in zip(server_ids, drafts, strict=True)
        )
        cost = pumping.charged(drafts)
        if cost:
            written.ledger.append(
                (account_id, -cost, "send", first, f"{len(drafts)} messages", created)
            )
        day = submits.day(now)
        days.extend((account_id, day, int(d.status), d.operator, d.price) for d in drafts)
        written.outcomes[index] = Submitted(
            server_ids=server_ids, balance=balances[index], held=velocity.held(drafts)
        )
    written.days = submits.day_groups(days)
    return written


def _debits(
    batch: Sequence[Pending],
    drafts_of: list[Sequence[Draft]],
    dialect: SubmitDialect,
    outcomes: list[Submitted | StorageError],
) -> Generator[Step, velocity.Rows, dict[int, int]]:
    """Debit each submit (and claim and count a guarded one, within a savepoint): its new
    balance by its index; a refused one gets its error in `outcomes` and writes nothing.
    Account by account (`submits.by_account`), each account's unguarded submits first."""
    balances: dict[int, int] = {}
    for indexes in submits.by_account([pending[0] for pending in batch]):
        account_id = batch[indexes[0]][0]
        # Unguarded (or guarded only by the velocity counters, which take no lock).
        plain = [i for i in indexes if not _locks(batch[i][4])]
        yield from _debit_plain(account_id, plain, drafts_of, outcomes, balances)
        for index in indexes:
            guard = batch[index][4]
            if index in plain or guard is None:
                continue
            yield "SAVEPOINT guarded", ()
            try:
                # The account's row first, as every submit locks it first; then the claim
                # and the caps, refused before the money.
                if dialect.lock is not None:
                    yield dialect.lock, (account_id,)
                now, drafts = batch[index][2], drafts_of[index]
                yield from _guard(account_id, drafts, now, guard, dialect.stamp)
                balances[index] = yield from _debit_one(account_id, drafts)
            except _Refused as refused:
                outcomes[index] = refused.why
                yield "ROLLBACK TO SAVEPOINT guarded", ()
            yield "RELEASE SAVEPOINT guarded", ()
    return balances


def _locks(guard: limits.SubmitGuard | None) -> bool:
    return guard is not None and guard.locks


def _debit_plain(
    account_id: int,
    indexes: list[int],
    drafts_of: list[Sequence[Draft]],
    outcomes: list[Submitted | StorageError],
    balances: dict[int, int],
) -> Generator[Step, velocity.Rows, None]:
    """An account's unguarded submits: one UPDATE for their sum when the balance covers it
    (concurrent sends of one account cost one statement, not one each), each submit's
    balance as if debited one after the other; else one by one, so the ones the money
    covers still go."""
    if len(indexes) > 1:
        costs, needs = zip(*(submits.cost(drafts_of[index]) for index in indexes), strict=True)
        returned = yield _DEBIT, (sum(costs), account_id, sum(needs))
        if returned:
            each = submits.balances(int(returned[0][0]), costs)
            balances.update(zip(indexes, each, strict=True))
            return
    for index in indexes:
        try:
            balances[index] = yield from _debit_one(account_id, drafts_of[index])
        except _Refused as refused:
            outcomes[index] = refused.why


def _debit_one(account_id: int, drafts: Sequence[Draft]) -> Generator[Step, velocity.Rows, int]:
    cost, need = submits.cost(drafts)
    returned = yield _DEBIT, (cost, account_id, need)
    if not returned:
        raise _Refused(InsufficientFundsError(f"account {account_id} cannot pay {need}"))
    return int(returned[0][0])


def _guard(
    account_id: int,
    drafts: Sequence[Draft],
    now: datetime,
    guard: limits.SubmitGuard,
    stamp: Callable[[datetime], Any],
) -> Generator[Step, velocity.Rows, None]:
    """Claim the submit's idempotency key and count it against its caps, or raise _Refused.
    A live claim of another transaction makes PostgreSQL's INSERT wait for that one's end."""
    if guard.claim is not None:
        claim = guard.claim
        claimed = (account_id, claim.key, claim.fingerprint, stamp(now), stamp(now - WINDOW))
        if not (yield CLAIM, claimed):
            raise _Refused(KeyClaimedError(f"account {account_id}: key already claimed"))
    if guard.caps:
        count = limits.counted(drafts)
        for period, start, cap in limits.periods(guard.caps, now):
            args = (account_id, period, stamp(start), count, count, cap, cap)
            if not (yield COUNT, args):
                raise _Refused(CapReachedError(f"account {account_id}: {period} cap {cap}"))
