"""SqliteStore: the outbox: schedules, claims, hand-overs, outcomes; connectors and routes."""

from __future__ import annotations

import json
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
    _MESSAGE_COLUMNS,
    _message,
    _opt_dt,
    _us,
)
from .hybrid import fall_back
from .links import SqliteLinks


class SqliteQueue(SqliteLinks):
    # the outbox --------------------------------------------------------------------------------
    async def release_scheduled(self, now: datetime) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = 0, modified = ? WHERE status = 3 AND due_at <= ?",
                (_us(now), _us(now)),
            ).rowcount

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        only: Sequence[str] | None = None,
    ) -> list[Message]:
        routed, args = "", [owner, _us(lease_until), _us(now), _us(now)]
        if only is not None:
            # Messages stored before routing have route '' and go to the emulator.
            routed = (
                "AND EXISTS (SELECT 1 FROM json_each(?) AS j WHERE instr(',' || CASE WHEN "
                "route = '' THEN 'emulator' ELSE route END || ',', ',' || j.value || ',') > 0) "
            )
            args.append(json.dumps(list(only)))
        with self._tx() as db:
            rows = db.execute(
                f"UPDATE messages SET lease_owner = ?, lease_until = ?, handing = 1 WHERE id IN ("
                "SELECT id FROM messages WHERE status = 0 AND handing = 0 AND due_at <= ? "
                f"AND (lease_until IS NULL OR lease_until < ?) {routed}"
                "ORDER BY due_at, id LIMIT ?) "
                f"RETURNING {_MESSAGE_COLUMNS}",
                (*args, limit),
            ).fetchall()
        return sorted((_message(row) for row in rows), key=lambda m: m.server_id)

    async def record_handover(
        self, owner: str, handovers: Sequence[Handover], now: datetime
    ) -> int:
        stamp = _us(now)
        with self._tx() as db:
            cursor = db.executemany(
                "UPDATE messages SET status = 1, modified = ?, connector = ?, remote_id = ?, "
                "outcome_status = ?, outcome_error = ?, outcome_at = ?, details = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 0 "
                "AND lease_owner = ?",
                [
                    (
                        stamp,
                        h.connector,
                        h.remote_id,
                        None if h.outcome_status is None else int(h.outcome_status),
                        h.outcome_error,
                        None if h.outcome_at is None else _us(h.outcome_at),
                        checks.encode(h.details),
                        h.server_id,
                        owner,
                    )
                    for h in handovers
                ],
            )
            handed = cursor.rowcount
            self._track_parts(db, handovers, stamp)
            return handed

    async def apply_due_outcomes(self, now: datetime, limit: int) -> int:
        with self._tx() as db:
            # VIBERSMS messages whose Viber outcome is a failure become SMS instead.
            hybrid = db.execute(
                "SELECT id FROM messages WHERE status = 1 AND fallback <> '' AND outcome_at <= ? "
                "AND outcome_status < 0 ORDER BY outcome_at LIMIT ?",
                (_us(now), limit),
            ).fetchall()
            fell = len(fall_back(db, [r[0] for r in hybrid], _us(now), status=1))
            return (
                fell
                + db.execute(
                    "UPDATE messages SET status = outcome_status, error = outcome_error, "
                    "modified = ? WHERE id IN (SELECT id FROM messages WHERE status = 1 AND "
                    "outcome_at <= ? ORDER BY outcome_at LIMIT ?)",
                    (_us(now), _us(now), limit),
                ).rowcount
            )

    async def release_leases(self, owner: str, ids: Sequence[int] | None = None) -> int:
        with self._tx() as db:
            if ids is None:
                return db.execute(
                    "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = 0 "
                    "WHERE lease_owner = ? AND status = 0",
                    (owner,),
                ).rowcount
            return db.executemany(
                "UPDATE messages SET lease_owner = NULL, lease_until = NULL, handing = 0 "
                "WHERE id = ? AND lease_owner = ? AND status = 0",
                [(server_id, owner) for server_id in ids],
            ).rowcount

    # connectors and routes ---------------------------------------------------------------------
    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO connectors (name, kind, settings, mps, enabled) VALUES (?,?,?,?,?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                "settings = excluded.settings, mps = excluded.mps, enabled = excluded.enabled",
                (name, kind, settings, mps, int(enabled)),
            )

    async def connectors(self) -> list[ConnectorInfo]:
        return [
            ConnectorInfo(
                name=row[0],
                kind=row[1],
                settings=row[2],
                enabled=bool(row[3]),
                mps=row[4],
                handed=row[5],
                heartbeat=_opt_dt(row[6]),
                state=row[7],
            )
            for row in self._read(
                "SELECT name, kind, settings, enabled, mps, handed, heartbeat, state "
                "FROM connectors "
                "ORDER BY name"
            )
        ]

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        with self._tx() as db:
            if not db.execute(
                "UPDATE connectors SET enabled = ? WHERE name = ?", (int(enabled), name)
            ).rowcount:
                raise NotFoundError(f"no connector {name!r}")

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        with self._tx() as db:
            row = db.execute(
                "SELECT tokens, tokens_at, mps FROM connectors WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return 0
            granted, left = routing.grant(row[0], _opt_dt(row[1]), now, row[2], want)
            db.execute(
                "UPDATE connectors SET tokens = ?, tokens_at = ? WHERE name = ?",
                (left, _us(now), name),
            )
            return granted

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE connectors SET handed = handed + ?, heartbeat = ? WHERE name = ?",
                (count, _us(now), name),
            )

    async def routes(self) -> list[Route]:
        return [
            Route(
                prefix=row[0],
                channel=row[1],
                connectors=routing.parse_connectors(row[2]),
                hlr_unreliable=bool(row[3]),
            )
            for row in self._read(
                "SELECT prefix, channel, connectors, hlr_unreliable FROM routes "
                "ORDER BY prefix, channel"
            )
        ]

    async def save_route(self, route: Route) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO routes (prefix, channel, connectors, hlr_unreliable) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (prefix, channel) DO UPDATE SET "
                "connectors = excluded.connectors, hlr_unreliable = excluded.hlr_unreliable",
                (route.prefix, route.channel, ",".join(route.connectors), route.hlr_unreliable),
            )

    async def remove_route(self, prefix: str, channel: str) -> bool:
        with self._tx() as db:
            return bool(
                db.execute(
                    "DELETE FROM routes WHERE prefix = ? AND channel = ?", (prefix, channel)
                ).rowcount
            )

    async def expire(self, now: datetime, limit: int) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = -1, error = 600, modified = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id IN (SELECT id FROM messages WHERE status IN (0, 1, 3) "
                "AND NOT (status = 0 AND handing = 1) "
                "AND expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (_us(now), _us(now), limit),
            ).rowcount

    async def end_unknown_handovers(self, lease_before: datetime, now: datetime, limit: int) -> int:
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET status = -1, error = ?, modified = ?, lease_owner = NULL, "
                "lease_until = NULL, handing = 0 WHERE id IN (SELECT id FROM messages "
                "WHERE status = 0 AND handing = 1 AND lease_until < ? ORDER BY lease_until "
                "LIMIT ?)",
                (codes.HANDOVER_UNKNOWN, _us(now), _us(lease_before), limit),
            ).rowcount
