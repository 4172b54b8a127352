"""PostgresStore: a full load of ported numbers by COPY (the rest of the numbering plan is in
storage/sql/numbering.py). 2·10⁷ rows through `executemany` would take tens of minutes; COPY
streams them in one statement. The primary key is dropped for the load and built once after
it, which is several times faster than maintaining it row by row; all of it happens in the
import's one transaction, so readers see the old table until the commit."""

from __future__ import annotations

from collections.abc import Iterable

from ..sql.driver import Statements
from ..sql.numbering import NumberingStore, Port
from .driver import PostgresStatements


class PostgresNumbering(NumberingStore):
    async def _load_ported(self, tx: Statements, ports: Iterable[Port]) -> None:
        assert isinstance(tx, PostgresStatements)
        conn = tx.connection
        await tx.run("TRUNCATE ported_numbers")
        await tx.run("ALTER TABLE ported_numbers DROP CONSTRAINT ported_numbers_pkey")
        async with conn.cursor() as cursor:
            async with cursor.copy(
                "COPY ported_numbers (number, operator, mnc) FROM STDIN"
            ) as copy:
                for port in ports:
                    await copy.write_row(port)
        await tx.run("ALTER TABLE ported_numbers ADD PRIMARY KEY (number)")
