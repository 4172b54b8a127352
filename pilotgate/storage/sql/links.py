"""The links and where messages go: connectors (their settings, messages-per-second
tokens and hand-over counters), routes, our inbound numbers and which process owns each
long-lived link."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain import routing
from pilotgate.domain.routing import Route
from pilotgate.errors import ConflictError, NotFoundError

from ..base import ConnectorInfo, LinkLease
from . import rows
from .core import SqlCore

_lease = rows.reader(LinkLease, "name, owner, until")
_ROUTE = rows.columns(Route)
#: A route's connectors are stored as one comma-separated text.
_route = rows.reader(
    Route, _ROUTE, convert={"connectors": lambda v, t: routing.parse_connectors(v)}
)


class LinkStore(SqlCore):
    """Connectors, routes, our numbers and the leases on links."""

    # connectors and routes ---------------------------------------------------------------------
    async def save_connector(
        self, name: str, kind: str, settings: str, mps: int, enabled: bool = True
    ) -> None:
        """Create or replace a connector's configuration (its counters are kept)."""
        await self._sql.run(
            "INSERT INTO connectors (name, kind, settings, mps, enabled) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
            "settings = excluded.settings, mps = excluded.mps, enabled = excluded.enabled",
            (name, kind, settings, mps, enabled),
        )

    async def connectors(self) -> list[ConnectorInfo]:
        return await self._all(
            rows.connector, f"SELECT {rows.CONNECTOR_COLUMNS} FROM connectors ORDER BY name"
        )

    async def set_connector_enabled(self, name: str, enabled: bool) -> None:
        """Raises NotFoundError for an unknown connector."""
        if not await self._sql.run(
            "UPDATE connectors SET enabled = %s WHERE name = %s", (enabled, name)
        ):
            raise NotFoundError(f"no connector {name!r}")

    async def take_tokens(self, name: str, want: int, now: datetime) -> int:
        """How many of `want` messages the connector may take now under its messages-per-
        second limit, taken atomically for all processes."""
        async with self._sql.tx() as tx:
            # FOR UPDATE: processes take tokens one after the other, so the limit holds
            # for all of them together.
            row = await tx.one(
                f"SELECT tokens, tokens_at, mps FROM connectors WHERE name = %s"
                f"{self._sql.for_update}",
                (name,),
            )
            if row is None:
                return 0
            tokens_at = None if row[1] is None else self._sql.time(row[1])
            granted, left = routing.grant(row[0], tokens_at, now, row[2], want)
            await tx.run(
                "UPDATE connectors SET tokens = %s, tokens_at = %s WHERE name = %s",
                (left, now, name),
            )
            return granted

    async def count_handover(self, name: str, count: int, now: datetime) -> None:
        """Add to the connector's hand-over counter and heartbeat."""
        await self._sql.run(
            "UPDATE connectors SET handed = handed + %s, heartbeat = %s WHERE name = %s",
            (count, now, name),
        )

    async def routes(self) -> list[Route]:
        return await self._all(
            _route,
            f"SELECT {_ROUTE} FROM routes ORDER BY prefix {self._sql.bytewise}, channel, operator",
        )

    async def save_route(self, route: Route) -> None:
        """Create or replace the route of (prefix, channel)."""
        await self._sql.run(
            f"INSERT INTO routes ({_ROUTE}) VALUES ({rows.marks(_ROUTE)}) "
            "ON CONFLICT (prefix, channel, operator) DO UPDATE SET "
            "connectors = excluded.connectors, hlr_unreliable = excluded.hlr_unreliable",
            (
                route.prefix,
                route.channel,
                ",".join(route.connectors),
                route.hlr_unreliable,
                route.operator,
            ),
        )

    async def remove_route(self, prefix: str, channel: str, operator: str = "") -> bool:
        return bool(
            await self._sql.run(
                "DELETE FROM routes WHERE prefix = %s AND channel = %s AND operator = %s",
                (prefix, channel, operator),
            )
        )

    # inbound numbers ---------------------------------------------------------------------------
    async def save_number(self, number: str, account_id: int, now: datetime) -> None:
        """Give our number `number` (inbound destination) to an account."""
        try:
            await self._sql.run(
                "INSERT INTO numbers VALUES (%s, %s, %s) ON CONFLICT (number) "
                "DO UPDATE SET account_id = excluded.account_id",
                (number, account_id, now),
            )
        except ConflictError as exc:  # the account does not exist (a key violation)
            raise ConflictError(f"no account {account_id}") from exc

    async def number_owner(self, number: str) -> int | None:
        row = await self._sql.one("SELECT account_id FROM numbers WHERE number = %s", (number,))
        return None if row is None else int(row[0])

    # link ownership ----------------------------------------------------------------------------
    async def hold_link(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease on link `name`; False while another owner's lease runs."""
        # Taken when free, renewed by its owner, taken over once the owner's lease ran out.
        taken = await self._sql.run(
            "INSERT INTO link_leases VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
            "SET owner = excluded.owner, until = excluded.until "
            "WHERE link_leases.owner = excluded.owner OR link_leases.until < %s",
            (name, owner, until, now),
        )
        return taken > 0

    async def release_link(self, name: str, owner: str) -> None:
        await self._sql.run("DELETE FROM link_leases WHERE name = %s AND owner = %s", (name, owner))

    async def link_leases(self) -> list[LinkLease]:
        return await self._all(_lease, "SELECT name, owner, until FROM link_leases ORDER BY name")

    async def save_link_state(self, name: str, state: str) -> None:
        """Record what the link's owner sees (JSON), for `connector list`."""
        await self._sql.run("UPDATE connectors SET state = %s WHERE name = %s", (state, name))
