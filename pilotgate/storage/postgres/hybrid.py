"""PostgresStore: the hybrid Viber fallback (storage/sql/hybrid.py) with its ids as one
`= ANY` array, the rows locked in id order so that two transactions falling back the same
messages wait for each other instead of deadlocking."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..sql import hybrid
from .core import Connection
from .driver import PostgresStatements

#: `among` and `listed` for `sql.hybrid.fall_back` in PostgreSQL.
AMONG = "= ANY(%s::bigint[]) ORDER BY id FOR UPDATE"
LISTED = list


async def fall_back(
    conn: Connection,
    server_ids: Iterable[int],
    now: datetime,
    *,
    status: int,
    owner: str | None = None,
) -> set[int]:
    """`sql.hybrid.fall_back` for the callers that hold the connection of their
    transaction."""
    return await hybrid.fall_back(
        PostgresStatements(conn),
        server_ids,
        now,
        status=status,
        owner=owner,
        among=AMONG,
        listed=LISTED,
    )
