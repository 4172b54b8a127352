"""Routing table use cases: a route sends the numbers under a prefix, on one channel or
all, to connectors in failover order."""

from __future__ import annotations

from collections.abc import Sequence

from pilotgate.domain.channels import Channel
from pilotgate.domain.routing import ALL_CHANNELS, Route
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.gateway import Gateway

from . import audit

#: The channels a route may name: each one, or "all".
CHANNELS = (*(c.value for c in Channel), ALL_CHANNELS)


def prefix_of(text: str) -> str:
    """The stored prefix: "*" (or "") is every number, a leading "+" is dropped."""
    prefix = "" if text in ("*", "") else text.lstrip("+")
    if prefix and not prefix.isdigit():
        raise ConfigError(f"route prefix {text!r}: digits, or * for every number")
    return prefix


async def add(
    gateway: Gateway,
    actor: str,
    prefix: str,
    channel: str,
    connectors: Sequence[str],
    *,
    hlr_unreliable: bool = False,
    operator: str = "",
) -> Route:
    """Create or replace the route of `prefix`, `channel` and `operator` (a route naming an
    operator serves only the numbers the numbering plan says it serves); every connector must
    exist."""
    route = Route(
        prefix=prefix_of(prefix),
        channel=channel,
        connectors=tuple(connectors),
        hlr_unreliable=hlr_unreliable,
        operator=operator.strip(),
    )
    if channel not in CHANNELS:
        raise ConfigError(f"route {prefix} {channel}: no channel {channel!r}")
    store = gateway.store
    known = {c.name for c in await store.connectors()}
    unknown = [name for name in route.connectors if name not in known]
    if not route.connectors or unknown:
        raise ConfigError(f"route {prefix} {channel}: unknown connectors: {unknown}")
    # The config file's routes are written over the database at every start: only a real
    # change is worth an entry.
    unchanged = route in await store.routes()
    await store.save_route(route)
    if not unchanged:
        flag = " hlr-unreliable" if hlr_unreliable else ""
        detail = f"{route.prefix or '*'} {channel} -> {','.join(route.connectors)}{flag}"
        await audit.record(gateway, actor, "route.add", None, detail)
    return route


async def remove(
    gateway: Gateway, actor: str, prefix: str, channel: str, operator: str = ""
) -> None:
    """Remove a route; numbers it served then get error 213 unless a shorter one serves."""
    clean, operator = prefix_of(prefix), operator.strip()
    if not await gateway.store.remove_route(clean, channel, operator):
        raise NotFoundError(f"no route {prefix} {channel} {operator}".strip())
    only = f" for {operator}" if operator else ""
    await audit.record(gateway, actor, "route.remove", None, f"{clean or '*'} {channel}{only}")


# queries -------------------------------------------------------------------------------------
async def listing(gateway: Gateway) -> list[Route]:
    return await gateway.store.routes()
