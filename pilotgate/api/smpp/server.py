"""PilotGate as an SMSC: the `smpp_listen` listener of every API process (docs/smpp.md
"PilotGate as an SMSC"), and the `smpp_tls_listen` one with the same sessions inside TLS
(tls.py). Each accepted connection is a `CustomerSession` task; the server keeps them to
unbind them when the process stops."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

from pilotgate.gateway import Gateway

from .limits import AccountLimits
from .session import CustomerSession, SmppServerSettings
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

    async def start(
        self, sock: socket.socket | None, tls_sock: socket.socket | None = None
    ) -> None:
        """Accept binds on `sock` and, inside TLS, on `tls_sock` (None: not listening)."""
        if sock is not None or tls_sock is not None:
            self._renewing = asyncio.create_task(self.limits.run())
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
        await asyncio.gather(
            *(session.unbind() for session in list(self.sessions)), return_exceptions=True
        )
        for server in self._servers:
            await server.wait_closed()
        if self._renewing is not None:
            self._renewing.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = CustomerSession(reader, writer, self._gateway, self._settings, self.limits)
        self.sessions.add(session)
        try:
            await session.run()
        except Exception:  # one session's bug must not reach the others or the listener
            log.exception("SMPP session from %s failed", session.address)
            await session.close()
        finally:
            self.sessions.discard(session)
