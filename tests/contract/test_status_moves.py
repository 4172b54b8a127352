"""The status table (domain/messages.py) rules the SQL too (issue 13, item 4).

Storage moves statuses in SQL without asking the table, so two tests hold it to the table:
every statement in pilotgate/storage/ that writes `messages.status` is declared below with
the moves its WHERE clause lets it make, and a recording trigger watches a message of every
path (send, schedule, hand-over, outcome, receipts, refusals, the VIBERSMS fallback, expiry,
the 606 "hand-over unknown" ending) on each database: every move made is in the table, and
every move in the table is made by some path."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from pilotgate.domain.hybrid import Fallback
from pilotgate.domain.messages import ALLOWED, INITIAL, Status
from pilotgate.domain.receipts import Receipt
from pilotgate.storage.base import Handover, Refusal
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, draft, new_account, statuses

if TYPE_CHECKING:
    from .conftest import Backend

STORAGE = Path(__file__).parents[2] / "pilotgate" / "storage"

TABLE = {(old, new) for old, news in ALLOWED.items() for new in news}

#: What each status a statement in storage/ writes can move a message from (its WHERE
#: guard on the old status) and to. A new statement writing a new value fails the scan below
#: until it is declared here, and the table then decides whether its moves are allowed.
SQL_MOVES: dict[str, set[tuple[int, int]]] = {
    # release_scheduled (WHERE status = 3); the hybrid fallback's requeue (status = 1, or
    # status = 0 on a refusal, where the status stays and nothing moves); release_held
    # (status = 4).
    "0": {(3, 0), (1, 0), (4, 0)},
    "1": {(0, 1)},  # record_handover: WHERE status = 0 AND lease_owner = owner
    # refuse, final: WHERE status = 0 AND lease_owner = owner; cancel_scheduled: status = 3;
    # reject_held: status = 4.
    "-2": {(0, -2), (3, -2), (4, -2)},
    # expire: status IN (0, 1, 3); end_unknown_handovers (606): status = 0 AND handing.
    "-1": {(3, -1), (0, -1), (1, -1)},
    # settling a message from its parts' receipts: WHERE messages.status = 1.
    "CASE WHEN p.failed THEN -1 ELSE 2 END": {(1, -1), (1, 2)},
    # apply_due_outcomes: WHERE status = 1; the value is a connector's, which
    # connectors.base.Accepted holds to domain ENDINGS (2 or -1).
    "outcome_status": {(1, -1), (1, 2)},
}
DECLARED = set().union(*SQL_MOVES.values())

_UPDATE = re.compile(r'UPDATE messages(?: \w+)? SET (.*?)(?: WHERE | FROM |"|;)', re.S)
_STATUS = re.compile(r"(?:^|, )status = (CASE .*? END|[^,]+)")


def _status_writes(dialect: str) -> set[str]:
    """The values written to messages.status by the statements of one dialect: every
    module and migration in storage/ but the other dialect's."""
    other = {"sqlite": "postgres", "postgres": "sqlite"}[dialect]
    files = [
        p
        for p in STORAGE.rglob("*")
        if p.suffix in {".py", ".sql"} and other not in p.relative_to(STORAGE).parts
    ]
    found = set()
    for path in files:
        # Adjacent string literals are one statement: join them.
        text = re.sub(r'"\s*\n\s*f?"', "", path.read_text(encoding="utf-8"))
        for clause in _UPDATE.findall(text):
            found |= {" ".join(v.split()) for v in _STATUS.findall(clause)}
    return found


def test_every_status_write_in_the_sql_is_declared_and_allowed_by_the_table() -> None:
    for dialect in ("sqlite", "postgres"):
        assert _status_writes(dialect) == set(SQL_MOVES), dialect
    assert DECLARED <= TABLE, DECLARED - TABLE
    # The backward move of the VIBERSMS fallback is in the table by name, not by accident.
    assert Status.ACCEPTED in ALLOWED[Status.HANDED_OVER]


_SQLITE_RECORDER = """
CREATE TABLE status_moves (old INTEGER, new INTEGER NOT NULL);
CREATE TRIGGER status_moves_insert AFTER INSERT ON messages
BEGIN INSERT INTO status_moves VALUES (NULL, NEW.status); END;
CREATE TRIGGER status_moves_update AFTER UPDATE OF status ON messages
WHEN NEW.status <> OLD.status
BEGIN INSERT INTO status_moves VALUES (OLD.status, NEW.status); END;
"""

_POSTGRES_RECORDER = """
CREATE TABLE status_moves (old smallint, new smallint NOT NULL);
CREATE FUNCTION status_moves_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_moves VALUES (CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
                                     NEW.status);
    RETURN NULL;
END $$;
CREATE TRIGGER status_moves_insert AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION status_moves_record();
CREATE TRIGGER status_moves_update AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status) EXECUTE FUNCTION status_moves_record();
"""


def _install_recorder(backend: Backend) -> None:
    if backend.name == "sqlite":
        with sqlite3.connect(backend.target) as db:
            db.executescript(_SQLITE_RECORDER)
        return
    with psycopg.connect(backend.target, autocommit=True) as conn:
        conn.execute(_POSTGRES_RECORDER)


def _recorded(backend: Backend) -> list[tuple[int | None, int]]:
    query = "SELECT old, new FROM status_moves"
    if backend.name == "sqlite":
        with sqlite3.connect(backend.target) as db:
            return [(r[0], r[1]) for r in db.execute(query).fetchall()]
    with psycopg.connect(backend.target) as conn:
        return [(r[0], r[1]) for r in conn.execute(query).fetchall()]


PLAN = Fallback(sender="SHOP", parts=1, price=150, route="smsc")


async def _drive_every_path(store: Store) -> None:
    account = await new_account(store, balance=100_000)

    async def submit(**changes: Any) -> int:
        (sid,) = (await store.submit(account.id, [draft(**changes)], NOW)).server_ids
        return sid

    async def claim(sid: int) -> None:
        claimed = await store.claim("w", NOW, NOW + LEASE, 10)
        assert [m.server_id for m in claimed] == [sid]

    async def hand_over(sid: int, remote: str = "", outcome: Status | None = None) -> None:
        handover = Handover(
            server_id=sid,
            connector="c",
            remote_id=remote or f"r{sid}",
            outcome_status=outcome,
            outcome_error=0 if outcome in (None, Status.DELIVERED) else 601,
            outcome_at=None if outcome is None else NOW,
        )
        assert await store.record_handover("w", [handover], NOW) == 1

    async def receipt(remote: str, status: Status) -> int:
        error = 0 if status is Status.DELIVERED else 605
        part = Receipt(remote_id=remote, status=status, error=error)
        return await store.record_receipts("c", [part], NOW)

    def refusal(sid: int, *, final: bool) -> Refusal:
        return Refusal(server_id=sid, error=213, final=final, retry_at=NOW + timedelta(days=1))

    # Refused at the door: stored -2 at once.
    await submit(status=Status.ERROR, error=213, price=0)
    # Outcomes known at hand-over: 0 -> 1 -> 2 and 0 -> 1 -> -1.
    for outcome in (Status.DELIVERED, Status.UNDELIVERED):
        sid = await submit()
        await claim(sid)
        await hand_over(sid, outcome=outcome)
        assert await store.apply_due_outcomes(NOW, 10) == 1
    # Outcomes by receipt; a late receipt changes no final status.
    for n, outcome in enumerate((Status.DELIVERED, Status.UNDELIVERED)):
        sid = await submit()
        await claim(sid)
        await hand_over(sid, remote=f"p{n}")
        assert await receipt(f"p{n}", outcome) == 1
        assert await receipt(f"p{n}", Status.DELIVERED) == 1  # a duplicate: no move
    # Refusals: for good (0 -> -2), for now (stays 0, due again tomorrow).
    sid = await submit()
    await claim(sid)
    assert await store.refuse("w", [refusal(sid, final=True)], NOW) == 1
    sid = await submit()
    await claim(sid)
    assert await store.refuse("w", [refusal(sid, final=False)], NOW) == 1
    # VIBERSMS falling back to SMS each way its Viber attempt can fail: refused (stays 0),
    # failed by receipt (1 -> 0), failed by the outcome known at hand-over (1 -> 0).
    viber = {"channel": "viber", "sender": "VIBERSMS", "route": "viber1", "fallback": PLAN}
    for way in ("refused", "receipt", "outcome"):
        sid = await submit(**viber)
        await claim(sid)
        if way == "refused":
            assert await store.refuse("w", [refusal(sid, final=True)], NOW) == 1
        elif way == "receipt":
            await hand_over(sid, remote=f"v{sid}")
            assert await receipt(f"v{sid}", Status.UNDELIVERED) == 1
        else:
            await hand_over(sid, outcome=Status.UNDELIVERED)
            assert await store.apply_due_outcomes(NOW, 10) == 1
        assert await statuses(store, account.id, [sid]) == {sid: Status.ACCEPTED}
        await claim(sid)  # the SMS leg
        await hand_over(sid, outcome=Status.DELIVERED)
        assert await store.apply_due_outcomes(NOW, 10) == 1
    # A worker died between claim and recorded hand-over: 0 -> -1 (606).
    sid = await submit()
    await claim(sid)
    assert await store.end_unknown_handovers(NOW + LEASE + SECOND, NOW + LEASE + SECOND, 10) == 1
    # Expiry of a handed-over, a queued and a scheduled message: 1, 0, 3 -> -1.
    expires = NOW + 100 * SECOND
    sid = await submit(expires_at=expires)
    await claim(sid)
    await hand_over(sid, remote="late")
    await submit(expires_at=expires)
    later = NOW + timedelta(hours=1)
    await submit(status=Status.SCHEDULED, send_datetime=later, expires_at=expires)
    assert await store.expire(expires, 10) == 3
    assert await receipt("late", Status.DELIVERED) == 1  # too late: the -1 stands
    # A scheduled message cancelled by its owner: 3 -> -2 (604).
    sid = await submit(status=Status.SCHEDULED, send_datetime=later)
    assert await store.cancel_scheduled(account.id, sid, NOW)
    # A scheduled message released when due: 3 -> 0.
    await submit(status=Status.SCHEDULED, send_datetime=later)
    assert await store.release_scheduled(later) == 1
    # Held as suspected pumping (stored 4), then released (4 -> 0) or rejected (4 -> -2).
    for settle in (store.release_held, store.reject_held):
        sid = await submit(status=Status.HELD)
        args = (
            (account.id, sid, 223, NOW) if settle == store.reject_held else (account.id, sid, NOW)
        )
        assert (await settle(*args)).messages == 1


async def test_every_move_the_stores_make_is_in_the_table(backend: Backend, store: Store) -> None:
    _install_recorder(backend)
    await _drive_every_path(store)
    recorded = _recorded(backend)
    inserted = {new for old, new in recorded if old is None}
    moves = {(old, new) for old, new in recorded if old is not None}
    assert moves <= TABLE, f"moves the table does not allow: {moves - TABLE}"
    assert inserted <= INITIAL, f"stored with a status no message starts with: {inserted}"
    # Every path was driven: each move of the table (and of the declared SQL) happened,
    # the VIBERSMS fallback's 1 -> 0 among them.
    assert moves == TABLE == DECLARED
    assert inserted == INITIAL
