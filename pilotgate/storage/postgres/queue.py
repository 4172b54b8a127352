"""PostgresStore: the outbox: schedules, claims, hand-overs, outcomes; connectors and routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import checks, codes, routing
from pilotgate.domain.messages import Message
from pilotgate.domain.routing import Route
from pilotgate.errors import NotFoundError

from ..base import (
    ConnectorInfo,
    Handover,
)
from .core import (
    _CLAIM,
    _CLAIM_ROUTED,
    _MAX_ID,
    _message,
)
from .hybrid import fall_back
from .links import PostgresLinks, lock_receipts


class PostgresQueue(PostgresLinks):
    # the outbox --------------------------------------------------------------------------------
    async def release_scheduled(self, now: datetime) -> int:
        return await self._queue_count(
            "UPDATE messages SET status = 0, modified = %s WHERE status = 3 AND due_at <= %s",
            (now, now),
            durable=False,
        )

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        only: Sequence[str] | None = None,
    ) -> list[Message]:
        if only is None:
            rows = await self._queue_rows(_CLAIM, (owner, lease_until, now, now, limit))
        else:
            rows = await self._queue_rows(
                _CLAIM_ROUTED, (owner, lease_until, now, now, list(only), limit)
            )
        return sorted((_message(row) for row in rows), key=lambda m: m.server_id)

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        if not handovers:
            return 0
        async with self._tx() as conn, conn.cursor() as cursor:
            # First, before any row lock: receipts may be waiting for these part ids.
            await lock_receipts(conn, (h.connector for h in handovers if h.outcome_status is None))
            await cursor.executemany(
                "UPDATE messages SET status = 1, modified = %s, connector = %s, "
                "remote_id = %s, outcome_status = %s, outcome_error = %s, outcome_at = %s, "
                "details = %s, lease_owner = NULL, lease_until = NULL "
                "WHERE id = %s AND status = 0 AND lease_owner = %s",
                [
                    (
                        now,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        h.outcome_at,
                        checks.encode(h.details),
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            # executemany adds up the rows every statement changed.
            handed = cursor.rowcount
            await self._track_parts(conn, handovers, now)
            return handed

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        # VIBERSMS messages whose Viber outcome is a failure become SMS instead; that moves
        # money, so it waits for the disk (the outcomes below need not).
        async with self._tx() as conn:
            cursor = await conn.execute(
                "SELECT id FROM messages WHERE status = 1 AND fallback <> '' AND outcome_at <= %s "
                "AND outcome_status < 0 ORDER BY outcome_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (now, limit),
            )
            hybrid = [row[0] for row in await cursor.fetchall()]
            fell = len(await fall_back(conn, hybrid, now, status=1))
        return fell + await self._queue_count(
            (
                "UPDATE messages SET status = outcome_status, error = outcome_error, "
                "modified = %s WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                "outcome_at <= %s ORDER BY outcome_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            ),
            (now, now, limit),
            durable=False,
        )

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        if ids is None:
            return await self._count(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = false "
                "WHERE lease_owner = %s AND status = 0",
                (owner,),
            )
        wanted = [i for i in ids if -_MAX_ID <= i <= _MAX_ID]
        return await self._count(
            "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = false "
            "WHERE id = ANY(%s::bigint[]) AND lease_owner = %s AND status = 0",
            (wanted, owner),
        )

    # connectors and routes ---------------------------------------------------------------------
    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        await self._count(
            "INSERT INTO connectors (name, kind, settings, mps, enabled) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
            "settings = excluded.settings, mps = excluded.mps, enabled = excluded.enabled",
            (name, kind, settings, mps, enabled),
        )

    async def connectors(self) -> list[ConnectorInfo]:
        return [
            ConnectorInfo(
                name=row[0],
                kind=row[1],
                settings=row[2],
                enabled=row[3],
                mps=row[4],
                handed=row[5],
                heartbeat=row[6],
                state=row[7],
            )
            for row in await self._rows(
                "SELECT name, kind, settings, enabled, mps, handed, heartbeat, state "
                "FROM connectors "
                "ORDER BY name"
            )
        ]

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        if not await self._count(
            "UPDATE connectors SET enabled = %s WHERE name = %s", (enabled, name)
        ):
            raise NotFoundError(f"no connector {name!r}")

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        async with self._tx() as conn:
            # FOR UPDATE: processes take tokens one after the other, so the limit holds
            # for all of them together.
            cursor = await conn.execute(
                "SELECT tokens, tokens_at, mps FROM connectors WHERE name = %s FOR UPDATE",
                (name,),
            )
            row = await cursor.fetchone()
            if row is None:
                return 0
            granted, left = routing.grant(row[0], row[1], now, row[2], want)
            await conn.execute(
                "UPDATE connectors SET tokens = %s, tokens_at = %s WHERE name = %s",
                (left, now, name),
            )
            return granted

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        await self._count(
            "UPDATE connectors SET handed = handed + %s, heartbeat = %s WHERE name = %s",
            (count, now, name),
        )

    async def routes(self) -> list[Route]:
        return [
            Route(
                prefix=row[0],
                channel=row[1],
                connectors=routing.parse_connectors(row[2]),
                hlr_unreliable=row[3],
            )
            for row in await self._rows(
                "SELECT prefix, channel, connectors, hlr_unreliable FROM routes "
                'ORDER BY prefix COLLATE "C", channel'
            )
        ]

    async def save_route(self, route: Route) -> None:
        await self._count(
            "INSERT INTO routes (prefix, channel, connectors, hlr_unreliable) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (prefix, channel) DO UPDATE SET "
            "connectors = excluded.connectors, hlr_unreliable = excluded.hlr_unreliable",
            (route.prefix, route.channel, ",".join(route.connectors), route.hlr_unreliable),
        )

    async def remove_route(self, prefix: str, channel: str) -> bool:
        return bool(
            await self._count(
                "DELETE FROM routes WHERE prefix = %s AND channel = %s", (prefix, channel)
            )
        )

    async def expire(self, now: datetime, limit: int) -> int:
        return await self._queue_count(
            "UPDATE messages SET status = -1, error = 600, modified = %s, lease_owner = NULL, "
            "lease_until = NULL WHERE id IN (SELECT id FROM messages WHERE status IN (0, 1, 3) "
            "AND NOT (status = 0 AND handing) "
            "AND expires_at <= %s ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            (now, now, limit),
            durable=False,
        )

    async def end_unknown_handovers(self, lease_before: datetime, now: datetime, limit: int) -> int:
        return await self._queue_count(
            "UPDATE messages SET status = -1, error = %s, modified = %s, lease_owner = NULL, "
            "lease_until = NULL, handing = false WHERE id IN (SELECT id FROM messages "
            "WHERE status = 0 AND handing AND lease_until < %s ORDER BY lease_until LIMIT %s "
            "FOR UPDATE SKIP LOCKED)",
            (codes.HANDOVER_UNKNOWN, now, lease_before, limit),
        )
