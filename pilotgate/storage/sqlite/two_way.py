"""SqliteStore: two-way SMS (`from=2WAY`): the pool of service numbers and the conversations,
which are the 2WAY messages themselves (sender_orig '2WAY', sender = the pool number)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from ..base import PoolNumber, TwoWayMatch
from .core import SqliteCore, _dt, _us


class SqliteTwoWay(SqliteCore):
    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO number_pool (number, prefix, connector) VALUES (?, ?, ?) "
                "ON CONFLICT (number) DO UPDATE SET prefix = excluded.prefix, "
                "connector = excluded.connector",
                (number, prefix, connector),
            )

    async def remove_pool_number(self, number: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM number_pool WHERE number = ?", (number,)).rowcount > 0

    async def pool_numbers(self) -> list[PoolNumber]:
        rows = self._read("SELECT number, prefix, connector FROM number_pool ORDER BY number")
        return [PoolNumber(number=row[0], prefix=row[1], connector=row[2]) for row in rows]

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        if not phones:
            return {}
        rows = self._read(
            "SELECT m.phone, m.sender, max(m.created) FROM messages AS m "
            "JOIN number_pool AS p ON p.number = m.sender "
            "WHERE m.sender_orig = '2WAY' AND m.phone IN (SELECT value FROM json_each(?)) "
            "AND m.created >= ? AND m.status != -2 GROUP BY m.phone, m.sender",
            (json.dumps(list(phones)), _us(since)),
        )
        return {(row[0], row[1]): _dt(row[2]) for row in rows}

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        rows = self._read(
            "SELECT m.id, m.account_id FROM message_parts AS p JOIN messages AS m "
            "ON m.id = p.server_id WHERE p.connector = ? AND p.remote_id = ?",
            (connector, remote_id),
        )
        return TwoWayMatch(server_id=int(rows[0][0]), account_id=int(rows[0][1])) if rows else None

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        rows = self._read(
            "SELECT id, account_id FROM messages WHERE sender_orig = '2WAY' AND sender = ? "
            "AND phone = ? AND created >= ? AND status != -2 ORDER BY created DESC, id DESC "
            "LIMIT 1",
            (number, phone, _us(since)),
        )
        return TwoWayMatch(server_id=int(rows[0][0]), account_id=int(rows[0][1])) if rows else None
