"""Long-lived links (SMPP binds): which process holds each, and what they report back.

Exactly one process holds a link at a time, by a lease in the database that its holder
renews every few seconds. When the holder dies its lease runs out and another process takes
the link over: that is the failover. The keeper is also the `Events` sink its links report
to: part receipts and inbound SMS are committed before the call returns, so a link that
acknowledges a deliver_sm afterwards never loses one. When the database refuses receipts
(an outage) the call still fails, so an SMSC is asked to send them again, and the keeper
also keeps them and records them itself when the database is back: a link that cannot
have them sent again (a SIP call's outcome) loses none either.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pilotgate.connectors.base import Link, MobileOriginated
from pilotgate.domain import stoplist
from pilotgate.domain.messages import ENDINGS
from pilotgate.domain.receipts import Receipt
from pilotgate.errors import GatewayError
from pilotgate.storage.roles import Store

from . import metrics
from .backlog import Backlog
from .connector_pool import ConnectorPool

log = logging.getLogger("pilotgate.links")

#: Receipts for ids no hand-over names are kept this long, then forgotten.
EARLY_RECEIPT_HOURS = 24
PURGE_EVERY = timedelta(minutes=5)


class LinkKeeper:
    """Owns long-lived links: of the store, the link's lease and state (`LinkStore`),
    receipts and the parts they match (`OutboxStore`), inbound SMS with the replies they
    answer (`TwoWayStore`); roles are classes (storage/roles.py), so a user of several is
    typed with `Store`."""

    def __init__(
        self,
        store: Store,
        pool: ConnectorPool,
        clock: Callable[[], datetime],
        owner: str,
        *,
        lease_seconds: float = 15.0,
        stop_words: frozenset[str] = frozenset(),
        two_way_hours: float = 72.0,
    ) -> None:
        self._store = store
        #: A reply to a 2WAY message is linked to it this long (contract §13.5).
        self._two_way = timedelta(hours=two_way_hours)
        #: Folded inbound texts that put the sender on the account's stop list.
        self._stop_words = stop_words
        self._pool = pool
        self._clock = clock
        self.owner = owner
        self._lease = timedelta(seconds=lease_seconds)
        # Renewed well before it runs out; at least every second so `connector list` shows
        # a bind, a drop or the counters within a second.
        self._renew = min(lease_seconds / 3, 1.0)
        self._started: dict[str, Link] = {}
        #: When the last round of leases ended well; None before the first (`/readyz`:
        #: a keeper whose rounds fail lets its leases run out, so its links are not held).
        self.last_round: datetime | None = None
        self._stopping = asyncio.Event()
        self._purged: datetime | None = None
        # Tried once a round: the rounds are paced already.
        self._backlog = Backlog(f"link keeper {owner}", first=0.0, cap=0.0)
        #: Told when receipts ended messages (serving.py: the SMPP server's receiving binds
        #: then claim the deliver_sm the database wrote for them at once).
        self.on_finals: Callable[[], None] | None = None

    # Events ---------------------------------------------------------------------------------
    async def receipts(self, connector: str, receipts: Sequence[Receipt]) -> None:
        # 2 or -1: how the status table lets a handed-over message end.
        final = [r for r in receipts if r.status in ENDINGS]
        if not final:
            return
        try:
            await self._record(connector, final, self._clock())
        except GatewayError:
            # Recorded twice at worst (the SMSC sends them again too): a receipt for a part
            # that has its outcome already changes nothing.
            self._backlog.add(
                f"{len(final)} receipt(s) from {connector}",
                functools.partial(self._record, connector, final, self._clock()),
            )
            raise

    async def _record(self, connector: str, final: list[Receipt], now: datetime) -> None:
        matched = await self._store.record_receipts(connector, final, now)
        if matched and self.on_finals is not None:
            self.on_finals()
        metrics.RECEIPTS.labels(connector, "matched").inc(matched)
        metrics.RECEIPTS.labels(connector, "early").inc(len(final) - matched)

    async def pending(self, connector: str, limit: int) -> list[str]:
        return await self._store.pending_parts(connector, limit)

    async def inbound(self, connector: str, messages: Sequence[MobileOriginated]) -> None:
        for mo in messages:
            # A reply to a two-way SMS: the message the connector names (a relay's upstream
            # linked it), else the newest 2WAY message from that number to that phone within
            # the window, whichever account sent it.
            match = None
            if mo.reply_to:
                match = await self._store.part_match(connector, mo.reply_to)
            if match is None:
                match = await self._store.two_way_match(
                    mo.number, mo.phone, mo.received - self._two_way
                )
            if match is not None:
                await self._store.add_inbound(
                    match.account_id,
                    mo.phone,
                    mo.number,
                    mo.text,
                    mo.received,
                    match.server_id,
                    stop=stoplist.is_stop_word(mo.text, self._stop_words),
                )
                metrics.INBOUND.labels(connector, "two_way").inc()
                continue
            account = await self._store.number_owner(mo.number)
            if account is None:
                # Nobody to give it to: logged, counted, and acknowledged to the SMSC (which
                # would otherwise send it again and again).
                log.warning("inbound SMS from %s to unknown number %s dropped", mo.phone, mo.number)
                metrics.INBOUND.labels(connector, "unknown_number").inc()
                continue
            stop = stoplist.is_stop_word(mo.text, self._stop_words)
            await self._store.add_inbound(
                account, mo.phone, mo.number, mo.text, mo.received, stop=stop
            )
            metrics.INBOUND.labels(connector, "stored").inc()

    # ownership ------------------------------------------------------------------------------
    async def run_once(self) -> None:
        """Take, renew or give up each link's lease, start or stop links to match, publish
        their state, and forget stale early receipts."""
        now = self._clock()
        await self._backlog.flush()
        await self._pool.refresh(self._store)
        current: dict[str, object] = dict(self._pool.live)
        for name in [n for n, link in self._started.items() if current.get(n) is not link]:
            log.info("link %s: reconfigured or removed, stopping the old one", name)
            await self._started.pop(name).stop()
        for name, connector in self._pool.live.items():
            if not isinstance(connector, Link):
                continue
            wanted = name in self._pool.enabled
            held = wanted and await self._store.hold_link(name, self.owner, now, now + self._lease)
            if held and name not in self._started:
                log.info("link %s: taking it (%s)", name, self.owner)
                await connector.start(self)
                self._started[name] = connector
            elif not held and name in self._started:
                log.info("link %s: giving it up", name)
                await self._started.pop(name).stop()
                await self._store.release_link(name, self.owner)
                # Not ours now: a stale 1 here would hide the link being down (alerts.yml).
                metrics.LINK_BOUND.labels(name).set(0)
            if name in self._started:
                state = connector.state()
                metrics.LINK_BOUND.labels(name).set(int(state.bound))
                await self._store.save_link_state(
                    name,
                    json.dumps(
                        {
                            **state.detail,
                            "owner": self.owner,
                            "bound": state.bound,
                            "window": f"{state.window_used}/{state.window}",
                            "submitted": state.submitted,
                            "receipts": state.receipts,
                            "errors": state.errors,
                            "at": now.isoformat(timespec="seconds"),
                        }
                    ),
                )
        self._pool.held = set(self._started)
        # Early receipts live for hours: forgetting stale ones every few minutes is plenty,
        # and keeps a DELETE off the once-a-second lease round.
        if self._purged is None or now - self._purged >= PURGE_EVERY:
            await self._store.purge_early_receipts(now - timedelta(hours=EARLY_RECEIPT_HOURS))
            self._purged = now
        self.last_round = now

    def readiness(self, now: datetime) -> tuple[bool, dict[str, object]]:
        """Whether the links this process should hold are held or being taken: a round of
        leases ended well within one lease length (a link another process holds counts,
        it is that process's to hold). With the links this process holds, for `/readyz`."""
        if self.last_round is None:
            return False, {"status": "taking links (first round not done)"}
        late = now - self.last_round >= self._lease
        detail: dict[str, object] = {
            "status": "lease rounds failing" if late else "ok",
            "held": sorted(self._started),
        }
        return not late, detail

    async def run(self) -> None:
        """Keep leases until `stop()`; then stop every held link (each drains its window and
        unbinds) and give the leases back so another process takes over at once."""
        try:
            while not self._stopping.is_set():
                try:
                    await self.run_once()
                except GatewayError:
                    log.exception("link keeper round failed")
                try:
                    await asyncio.wait_for(self._stopping.wait(), self._renew)
                except TimeoutError:
                    pass
        finally:
            self._pool.held = set()
            for name, link in self._started.items():
                await link.stop()
                await self._store.release_link(name, self.owner)
                metrics.LINK_BOUND.labels(name).set(0)
            self._started.clear()

    def stop(self) -> None:
        self._stopping.set()
