"""SqliteStore: the hybrid Viber fallback (storage/sql/hybrid.py) with its ids as the JSON
array SQLite's `json_each` reads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from ..sql import hybrid
from .driver import SqliteStatements, stored_time

#: `among` and `listed` for `sql.hybrid.fall_back` in SQLite.
AMONG = "IN (SELECT value FROM json_each(%s)) ORDER BY id"
LISTED = json.dumps


def fall_back(
    db: sqlite3.Connection,
    server_ids: Iterable[int],
    stamp: int,
    *,
    status: int,
    owner: str | None = None,
) -> set[int]:
    """`sql.hybrid.fall_back` for the callers that hold the connection of their transaction
    and are synchronous: SQLite's statements never suspend, so the coroutine ends at its
    first step."""
    tx = SqliteStatements(db)
    step = hybrid.fall_back(
        tx, server_ids, stored_time(stamp), status=status, owner=owner, among=AMONG, listed=LISTED
    )
    try:
        step.send(None)
    except StopIteration as finished:
        done: set[int] = finished.value
        return done
    step.close()
    raise RuntimeError("a SQLite statement suspended")
