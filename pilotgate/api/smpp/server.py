"""PilotGate as an SMSC: the `smpp_listen` listener of every API process (docs/smpp.md
"PilotGate as an SMSC"). Each accepted connection is a `CustomerSession` task; the server
keeps them to unbind them when the process stops, shows them in `/metrics` and drops the
receipts and inbound SMS that waited past their validity (`smpp_receipt_validity`)."""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
from datetime import timedelta

from pilotgate.errors import GatewayError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics

from .session import BindState, CustomerSession, SmppServerSettings

log = logging.getLogger(__name__)


class SmppServer:
    def __init__(self, gateway: Gateway, settings: SmppServerSettings) -> None:
        self._gateway, self._settings = gateway, settings
        self._server: asyncio.Server | None = None
        self.sessions: set[CustomerSession] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket | None) -> None:
        """Accept binds on `sock` (None: this process does not listen for SMPP)."""
        if sock is not None:
            self._server = await asyncio.start_server(self._accept, sock=sock)
            self._keeper = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        """Accept no more connections; unbind every session once its submits are answered."""
        if self._server is not None:
            self._server.close()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await asyncio.gather(
            *(session.unbind() for session in list(self.sessions)), return_exceptions=True
        )
        # Each session gives back the receipts it holds unanswered as it ends: wait for
        # that, so the next bind (on any node) has them at once, not after their lease.
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = CustomerSession(reader, writer, self._gateway, self._settings)
        self.sessions.add(session)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        try:
            await session.run()
        except Exception:  # one session's bug must not reach the others or the listener
            log.exception("SMPP session from %s failed", session.address)
            await session.close()
        finally:
            self.sessions.discard(session)

    def binds(self) -> dict[BindState, int]:
        """Live binds of this process by type."""
        counted = collections.Counter(session.state for session in self.sessions)
        return {state: counted[state] for state in BindState if state is not BindState.OPEN}

    async def _keep(self) -> None:
        validity = timedelta(hours=self._settings.deliveries.validity_hours)
        swept = -1e9
        loop = asyncio.get_running_loop()
        while True:
            for state, count in self.binds().items():
                metrics.SMPP_BINDS.labels(state.value).set(count)
            # Every listening process sweeps; a sweep is one indexed DELETE, so a few per
            # minute across nodes cost nothing and any node left alone still sweeps.
            if loop.time() - swept >= 60.0:
                swept = loop.time()
                try:
                    dropped = await self._gateway.drop_stale_deliveries(validity)
                except GatewayError:
                    log.warning("SMPP: could not drop expired receipts")
                else:
                    if dropped:
                        log.info("SMPP: dropped %d receipts or SMS past their validity", dropped)
                        metrics.SMPP_DELIVERIES.labels("expired").inc(dropped)
            await asyncio.sleep(1.0)
