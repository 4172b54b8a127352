"""The connectors a process can hand messages to, kept in step with the database's
configuration: built by the composition root's factory, enabled, usable, rate-limited."""

from __future__ import annotations

from collections.abc import Callable

from pilotgate.connectors.base import Connector, Link
from pilotgate.storage.base import ConnectorInfo
from pilotgate.storage.roles import LinkStore

#: Builds the connector a configuration names, or None for a kind this process cannot run.
ConnectorFactory = Callable[[ConnectorInfo], Connector | None]


class ConnectorPool:
    """The connectors this process can hand messages to, kept in step with the database
    (added, enabled or disabled from the CLI). It is read every round, one small query, so
    a connector disabled from the CLI takes no message claimed after that."""

    def __init__(self, factory: ConnectorFactory) -> None:
        self._factory = factory
        self.live: dict[str, Connector] = {}
        self.enabled: set[str] = set()
        self.usable: set[str] = set()  # enabled, and for links: held here and bound
        self.limited: set[str] = set()  # connectors with a messages-per-second limit
        self.held: set[str] = set()  # links this process holds (LinkKeeper)
        self._made_from: dict[str, tuple[str, str, int]] = {}  # name → (kind, settings, mps)

    async def refresh(self, store: LinkStore) -> None:
        enabled, limited = set(), set()
        for info in await store.connectors():
            recipe = (info.kind, info.settings, info.mps)
            if self._made_from.get(info.name) != recipe:
                # New, or reconfigured from the CLI: built again (a LinkKeeper notices the
                # new object, stops the old link and starts this one).
                self._made_from[info.name] = recipe
                made = self._factory(info)
                if made is None:
                    self.live.pop(info.name, None)
                    continue
                self.live[info.name] = made
            if info.name not in self.live:
                continue
            if info.enabled:
                enabled.add(info.name)
            if info.mps > 0 and not isinstance(self.live[info.name], Link):
                # A link paces itself (one process holds it); others share a bucket in the
                # database so the limit holds across processes.
                limited.add(info.name)
        self.enabled, self.limited = enabled, limited
        self.usable = {name for name in enabled if self._ready(self.live[name])}

    def _ready(self, connector: Connector) -> bool:
        # A link takes messages only in the process that holds it, and only while bound
        # (read every round, so a fresh bind is used at once and a lost one at once not).
        if isinstance(connector, Link):
            return connector.name in self.held and connector.state().bound
        return True

    def claim_filter(self) -> list[str] | None:
        """None when this process can carry every enabled connector; else the ones it can,
        so it leaves messages for links held elsewhere to the process that holds them."""
        return None if self.usable >= self.enabled else sorted(self.usable)
