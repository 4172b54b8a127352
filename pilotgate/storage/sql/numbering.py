"""The numbering plan and the ported numbers (migration 0015_numbering), replaced whole by an
import in one transaction and read back in number order by each process's snapshot.

A full ported load goes through `_load_ported`, each dialect's own: COPY in PostgreSQL
(storage/postgres/numbering.py), batches of `executemany` in SQLite (its fastest bulk path,
storage/sqlite/numbering.py)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice

from pilotgate.domain.numbering import PlanRange

from . import rows
from .core import SqlCore
from .driver import Statements

Port = tuple[int, str, str]
_BUMP = "UPDATE numbering_version SET version = version + 1, changed_at = %s WHERE id = 1"
_VERSION = "SELECT version FROM numbering_version WHERE id = 1"
INSERT_PORT = "INSERT INTO ported_numbers (number, operator, mnc) VALUES (%s, %s, %s)"
_RANGE = "low, high, operator, legal, region, inn, mnc"
_range = rows.reader(PlanRange, _RANGE)
#: Rows per `executemany` batch: bounded memory for a file of 2·10⁷ lines.
BATCH = 50_000


class NumberingStore(SqlCore):
    """The numbering plan and the ported numbers (issue 17): replaced whole, versioned."""

    async def numbering_version(self) -> int:
        """Bumped by every import: a process whose snapshot is older reloads it."""
        row = await self._sql.one(_VERSION)
        return int(row[0]) if row else 0

    async def replace_plan(self, ranges: Sequence[PlanRange], now: datetime) -> int:
        """Replace every range in one transaction; returns the new version."""
        async with self._sql.tx() as tx:
            await tx.run("DELETE FROM numbering_ranges")
            await tx.many(
                "INSERT INTO numbering_ranges (low, high, operator, legal, region, inn, mnc) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(r.low, r.high, r.operator, r.legal, r.region, r.inn, r.mnc) for r in ranges],
            )
            return await self._bump(tx, now)

    async def replace_ported(self, ports: Iterable[Port], now: datetime, *, increment: bool) -> int:
        """`(number, operator, mnc)` rows: replace the whole list in one transaction, or
        (`increment`) add them, replacing the entries of the numbers already listed. Returns
        the new version."""
        async with self._sql.tx() as tx:
            if increment:
                upsert = (
                    INSERT_PORT + " ON CONFLICT (number) DO UPDATE SET "
                    "operator = excluded.operator, mnc = excluded.mnc"
                )
                for batch in batches(ports):
                    await tx.many(upsert, batch)
            else:
                await self._load_ported(tx, ports)
            return await self._bump(tx, now)

    @abstractmethod
    async def _load_ported(self, tx: Statements, ports: Iterable[Port]) -> None:
        """Inside `replace_ported`'s transaction: the whole list becomes `ports` (each
        dialect's fastest bulk load: sqlite/numbering.py, postgres/numbering.py)."""

    async def _bump(self, tx: Statements, now: datetime) -> int:
        await tx.run(_BUMP, (now,))
        row = await tx.one(_VERSION)
        assert row is not None
        return int(row[0])

    async def plan_ranges(self) -> list[PlanRange]:
        found = await self._sql.rows(f"SELECT {_RANGE} FROM numbering_ranges ORDER BY low")
        return [_range(row, self._sql.time) for row in found]

    async def ported_after(self, after: int, limit: int) -> list[Port]:
        """Up to `limit` ported numbers above `after`, in number order."""
        # Keyset pages: a process reads 2·10⁷ rows without holding them all as tuples.
        found = await self._sql.rows(
            "SELECT number, operator, mnc FROM ported_numbers WHERE number > %s "
            "ORDER BY number LIMIT %s",
            (after, limit),
        )
        return [(int(row[0]), row[1], row[2]) for row in found]

    async def plan_range_at(self, number: int) -> PlanRange | None:
        """The range holding `number` (a plan number as an int), if any."""
        row = await self._sql.one(
            f"SELECT {_RANGE} FROM numbering_ranges WHERE low <= %s ORDER BY low DESC LIMIT 1",
            (number,),
        )
        return _range(row, self._sql.time) if row is not None and row[1] >= number else None

    async def ported_number(self, number: int) -> Port | None:
        row = await self._sql.one(
            "SELECT number, operator, mnc FROM ported_numbers WHERE number = %s", (number,)
        )
        return (int(row[0]), row[1], row[2]) if row else None


def batches(ports: Iterable[Port]) -> Iterable[list[Port]]:
    items = iter(ports)
    while batch := list(islice(items, BATCH)):
        yield batch
