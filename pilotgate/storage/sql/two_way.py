"""The store's two-way SMS (`from=2WAY`): the pool of service numbers and the conversations,
which are the 2WAY messages themselves (sender_orig '2WAY', sender = the pool number); and
the inbound SMS, replies or not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..base import InboundSms, PoolNumber, TwoWayMatch
from . import rows
from .core import SqlCore

#: The newest open conversation per (phone, pool number); the driver fills in how a phone
#: is one of a list (`Driver.text_in`).
_OPEN = (
    "SELECT m.phone, m.sender, max(m.created) FROM messages AS m "
    "JOIN number_pool AS p ON p.number = m.sender "
    "WHERE m.sender_orig = '2WAY' AND m.phone {among} "
    "AND m.created >= %s AND m.status != -2 GROUP BY m.phone, m.sender"
)
_pool_number = rows.reader(PoolNumber, "number, prefix, connector")
_match = rows.reader(TwoWayMatch, "server_id, account_id")


class TwoWayStore(SqlCore):
    """The 2WAY number pool, replies matched to messages, and inbound SMS."""

    async def save_pool_number(self, number: str, prefix: str, connector: str = "") -> None:
        """Put `number` in the 2WAY pool for destinations under `prefix`, carried by
        `connector` ('' = any), or change those."""
        await self._sql.run(
            "INSERT INTO number_pool (number, prefix, connector) VALUES (%s, %s, %s) "
            "ON CONFLICT (number) DO UPDATE SET prefix = excluded.prefix, "
            "connector = excluded.connector",
            (number, prefix, connector),
        )

    async def remove_pool_number(self, number: str) -> bool:
        return await self._sql.run("DELETE FROM number_pool WHERE number = %s", (number,)) > 0

    async def pool_numbers(self) -> list[PoolNumber]:
        """The whole pool, by number."""
        return await self._all(
            _pool_number, "SELECT number, prefix, connector FROM number_pool ORDER BY number"
        )

    async def two_way_open(
        self, phones: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], datetime]:
        """(phone, pool number) → the newest 2WAY message's `created`, of any account, from
        that number to one of `phones` created at or after `since` (refused ones excepted)."""
        if not phones:
            return {}
        found = await self._sql.rows(
            _OPEN.format(among=self._sql.text_in), (self._sql.texts(phones), since)
        )
        return {(row[0], row[1]): self._sql.time(row[2]) for row in found}

    async def part_match(self, connector: str, remote_id: str) -> TwoWayMatch | None:
        """The message whose part `connector` took as `remote_id` (a relay's upstream names
        it in a reply to a two-way SMS); None if no hand-over names it."""
        return await self._one(
            _match,
            "SELECT m.id, m.account_id FROM message_parts AS p JOIN messages AS m "
            "ON m.id = p.server_id WHERE p.connector = %s AND p.remote_id = %s",
            (connector, remote_id),
        )

    async def two_way_match(self, number: str, phone: str, since: datetime) -> TwoWayMatch | None:
        """The newest 2WAY message from `number` to `phone` created at or after `since`, of
        any account, refused ones (-2) excepted; None if there is none."""
        return await self._one(
            _match,
            "SELECT id, account_id FROM messages WHERE sender_orig = '2WAY' AND sender = %s "
            "AND phone = %s AND created >= %s AND status != -2 ORDER BY created DESC, id DESC "
            "LIMIT 1",
            (number, phone, since),
        )

    # inbound -----------------------------------------------------------------------------------
    async def add_inbound(
        self,
        account_id: int,
        phone: str,
        num: str,
        text: str,
        now: datetime,
        server_id: int | None = None,
        *,
        stop: bool = False,
    ) -> int:
        """Store an inbound SMS; with `stop`, its phone joins the account's stop list in the
        same transaction (the sender replied with a stop word)."""
        insert = (
            "INSERT INTO inbound (account_id, phone, num, text, created, server_id) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
        )
        args = (account_id, phone, num, text, now, server_id)
        if not stop:  # one statement, autocommitted: no BEGIN/COMMIT round trips
            row = await self._sql.one(insert, args)
        else:
            async with self._sql.tx() as tx:
                row = await tx.one(insert, args)
                await tx.run(
                    "INSERT INTO stop_list (account_id, phone, reason, created) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (account_id, phone, "inbound stop word", now),
                )
        assert row is not None
        return int(row[0])

    async def inbound(
        self, account_id: int, *, since: datetime | None = None, only_new: bool = False
    ) -> list[InboundSms]:
        """Newest first. `only_new` returns the ones not fetched yet and marks them."""
        if only_new:
            # One statement reads and marks, so two pollers never both get the same row.
            query = (
                "UPDATE inbound SET fetched = TRUE WHERE account_id = %s AND fetched = FALSE "
                f"RETURNING {rows.INBOUND_COLUMNS}"
            )
            args: tuple[Any, ...] = (account_id,)
        else:
            query = f"SELECT {rows.INBOUND_COLUMNS} FROM inbound WHERE account_id = %s"
            args = (account_id,)
            if since is not None:
                query, args = query + " AND created > %s", (account_id, since)
        items = await self._all(rows.inbound, query, args)
        return sorted(items, key=lambda item: item.id, reverse=True)
