"""PostgresStore: two-way SMS (`from=2WAY`): the pool of service numbers and the
conversations, which are the 2WAY messages themselves (sender_orig '2WAY', sender = the pool
number)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..base import PoolNumber, TwoWayMatch
from .core import PostgresCore


class PostgresTwoWay(PostgresCore):
    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        await self._count(
            "INSERT INTO number_pool (number, prefix, connector) VALUES (%s, %s, %s) "
            "ON CONFLICT (number) DO UPDATE SET prefix = excluded.prefix, "
            "connector = excluded.connector",
            (number, prefix, connector),
        )

    async def remove_pool_number(self, number: str) -> bool:
        return await self._count("DELETE FROM number_pool WHERE number = %s", (number,)) > 0

    async def pool_numbers(self) -> list[PoolNumber]:
        rows = await self._rows("SELECT number, prefix, connector FROM number_pool ORDER BY number")
        return [PoolNumber(number=row[0], prefix=row[1], connector=row[2]) for row in rows]

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        if not phones:
            return {}
        rows = await self._rows(
            "SELECT m.phone, m.sender, max(m.created) FROM messages AS m "
            "JOIN number_pool AS p ON p.number = m.sender "
            "WHERE m.sender_orig = '2WAY' AND m.phone = ANY(%s::text[]) "
            "AND m.created >= %s AND m.status != -2 GROUP BY m.phone, m.sender",
            (list(phones), since),
        )
        return {(row[0], row[1]): row[2] for row in rows}

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        rows = await self._rows(
            "SELECT m.id, m.account_id FROM message_parts AS p JOIN messages AS m "
            "ON m.id = p.server_id WHERE p.connector = %s AND p.remote_id = %s",
            (connector, remote_id),
        )
        return TwoWayMatch(server_id=int(rows[0][0]), account_id=int(rows[0][1])) if rows else None

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        rows = await self._rows(
            "SELECT id, account_id FROM messages WHERE sender_orig = '2WAY' AND sender = %s "
            "AND phone = %s AND created >= %s AND status != -2 ORDER BY created DESC, id DESC "
            "LIMIT 1",
            (number, phone, since),
        )
        return TwoWayMatch(server_id=int(rows[0][0]), account_id=int(rows[0][1])) if rows else None
