"""PilotGate as an SMSC: the `smpp_listen` listener of every API process (docs/smpp.md
"PilotGate as an SMSC"), and the `smpp_tls_listen` one with the same sessions inside TLS
(tls.py). Each accepted connection is a `CustomerSession` task; the server keeps them to
unbind them when the process stops, shows them in `/metrics` and drops the receipts and
inbound SMS that waited past their validity (`smpp_receipt_validity`)."""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import ssl
from datetime import timedelta

from pilotgate.domain import proxy_header
from pilotgate.errors import GatewayError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics

from ..proxies import peer_address as proxied_address
from .limits import AccountLimits
from .session import BindState, CustomerSession
from .settings import SmppServerSettings
from .tls import HANDSHAKE_SECONDS

log = logging.getLogger(__name__)


class SmppServer:
    def __init__(
        self,
        gateway: Gateway,
        settings: SmppServerSettings,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._gateway, self._settings, self._tls = gateway, settings, tls
        self._servers: list[asyncio.Server] = []
        self.sessions: set[CustomerSession] = set()
        self.limits = AccountLimits(gateway, settings.limits)
        self._renewing: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None

    async def start(
        self, sock: socket.socket | None, tls_sock: socket.socket | None = None
    ) -> None:
        """Accept binds on `sock` and, inside TLS, on `tls_sock` (None: not listening)."""
        if sock is not None or tls_sock is not None:
            self._renewing = asyncio.create_task(self.limits.run())
            self._keeper = asyncio.create_task(self._keep())
        if sock is not None:
            self._servers.append(await asyncio.start_server(self._accept, sock=sock))
        if tls_sock is not None:
            if self._tls is None:
                raise ValueError("a TLS socket without a TLS context")
            self._servers.append(
                await asyncio.start_server(
                    self._accept,
                    sock=tls_sock,
                    ssl=self._tls,
                    ssl_handshake_timeout=HANDSHAKE_SECONDS,
                )
            )

    async def stop(self) -> None:
        """Accept no more connections; unbind every session once its submits are answered."""
        for server in self._servers:
            server.close()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await asyncio.gather(
            *(session.unbind() for session in list(self.sessions)), return_exceptions=True
        )
        # Each session gives back the receipts it holds unanswered as it ends: wait for
        # that, so the next bind (on any node) has them at once, not after their lease.
        await asyncio.gather(*self._handlers, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        if self._renewing is not None:
            self._renewing.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        heard, client = await self._client(reader, writer)
        if not heard:
            return
        session = CustomerSession(
            reader, writer, self._gateway, self._settings, self.limits, client
        )
        self.sessions.add(session)
        try:
            await session.run()
        except Exception:  # one session's bug must not reach the others or the listener
            log.exception("SMPP session from %s failed", session.address)
            await session.close()
        finally:
            self.sessions.discard(session)

    async def _client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[bool, str | None]:
        """(False, None) when a trusted proxy sent no valid PROXY header (the connection is
        closed); else (True, the client its header names), None for the peer itself (not a
        proxy, or a proxy that does not know)."""
        peer = writer.get_extra_info("peername")
        address = proxied_address(str(peer[0])) if isinstance(peer, tuple) else None
        if address is None or not any(address in net for net in self._settings.proxies):
            return True, None
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), self._settings.bind_seconds)
            return True, proxy_header.source(line)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            log.info("SMPP proxy %s sent no PROXY header; closing", address)
            writer.close()
            return False, None

    def deliveries_due(self) -> None:
        """Final statuses were recorded in this process: every receiving bind claims what
        it is owed now instead of at its next poll (one indexed claim each)."""
        for session in self.sessions:
            if session.deliveries is not None:
                session.deliveries.due()

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
            metrics.SMPP_WINDOW.set(self.limits.window_used())
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
