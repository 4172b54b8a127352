"""PilotGate as an SMSC: the `smpp_listen` listener of every API process (docs/smpp.md
"PilotGate as an SMSC"). Each accepted connection is a `CustomerSession` task; the server
keeps them to unbind them when the process stops."""

from __future__ import annotations

import asyncio
import logging
import socket

from pilotgate.gateway import Gateway

from .session import CustomerSession, SmppServerSettings

log = logging.getLogger(__name__)


class SmppServer:
    def __init__(self, gateway: Gateway, settings: SmppServerSettings) -> None:
        self._gateway, self._settings = gateway, settings
        self._server: asyncio.Server | None = None
        self.sessions: set[CustomerSession] = set()

    async def start(self, sock: socket.socket | None) -> None:
        """Accept binds on `sock` (None: this process does not listen for SMPP)."""
        if sock is not None:
            self._server = await asyncio.start_server(self._accept, sock=sock)

    async def stop(self) -> None:
        """Accept no more connections; unbind every session once its submits are answered."""
        if self._server is not None:
            self._server.close()
        await asyncio.gather(
            *(session.unbind() for session in list(self.sessions)), return_exceptions=True
        )
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = CustomerSession(reader, writer, self._gateway, self._settings)
        self.sessions.add(session)
        try:
            await session.run()
        except Exception:  # one session's bug must not reach the others or the listener
            log.exception("SMPP session from %s failed", session.address)
            await session.close()
        finally:
            self.sessions.discard(session)
