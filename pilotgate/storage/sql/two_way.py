"""The store's two-way SMS (`from=2WAY`): the pool of service numbers and the conversations,
which are the 2WAY messages themselves (sender_orig '2WAY', sender = the pool number)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..base import PoolNumber, TwoWayMatch
from .core import SqlCore

#: The newest open conversation per (phone, pool number); the driver fills in how a phone
#: is one of a list (`Driver.text_in`).
_OPEN = (
    "SELECT m.phone, m.sender, max(m.created) FROM messages AS m "
    "JOIN number_pool AS p ON p.number = m.sender "
    "WHERE m.sender_orig = '2WAY' AND m.phone {among} "
    "AND m.created >= %s AND m.status != -2 GROUP BY m.phone, m.sender"
)


class SqlTwoWay(SqlCore):
    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        await self._sql.run(
            "INSERT INTO number_pool (number, prefix, connector) VALUES (%s, %s, %s) "
            "ON CONFLICT (number) DO UPDATE SET prefix = excluded.prefix, "
            "connector = excluded.connector",
            (number, prefix, connector),
        )

    async def remove_pool_number(self, number: str) -> bool:
        return await self._sql.run("DELETE FROM number_pool WHERE number = %s", (number,)) > 0

    async def pool_numbers(self) -> list[PoolNumber]:
        found = await self._sql.rows(
            "SELECT number, prefix, connector FROM number_pool ORDER BY number"
        )
        return [PoolNumber(number=row[0], prefix=row[1], connector=row[2]) for row in found]

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        if not phones:
            return {}
        found = await self._sql.rows(
            _OPEN.format(among=self._sql.text_in), (self._sql.texts(phones), since)
        )
        return {(row[0], row[1]): self._sql.time(row[2]) for row in found}

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        row = await self._sql.one(
            "SELECT m.id, m.account_id FROM message_parts AS p JOIN messages AS m "
            "ON m.id = p.server_id WHERE p.connector = %s AND p.remote_id = %s",
            (connector, remote_id),
        )
        return None if row is None else TwoWayMatch(server_id=int(row[0]), account_id=int(row[1]))

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        row = await self._sql.one(
            "SELECT id, account_id FROM messages WHERE sender_orig = '2WAY' AND sender = %s "
            "AND phone = %s AND created >= %s AND status != -2 ORDER BY created DESC, id DESC "
            "LIMIT 1",
            (number, phone, since),
        )
        return None if row is None else TwoWayMatch(server_id=int(row[0]), account_id=int(row[1]))
