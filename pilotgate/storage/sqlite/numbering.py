"""SqliteStore: a full load of ported numbers (the rest of the numbering plan is in
storage/sql/numbering.py): batches of `executemany` in the import's one transaction, SQLite's
fastest bulk path; memory stays bounded by `BATCH` rows."""

from __future__ import annotations

from collections.abc import Iterable

from ..sql.driver import Statements
from ..sql.numbering import INSERT_PORT, NumberingStore, Port, batches


class SqliteNumbering(NumberingStore):
    async def _load_ported(self, tx: Statements, ports: Iterable[Port]) -> None:
        await tx.run("DELETE FROM ported_numbers")
        for batch in batches(ports):
            await tx.many(INSERT_PORT, batch)
