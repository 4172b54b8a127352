"""A TCP listener on one port that can stop listening and listen again on the same port at
once, and tracks each connection's task so that all can be dropped together. The callback
receiver (receiver.py) says what each connection is told (`_converse`)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Coroutine
from typing import Any

import h11

log = logging.getLogger("pilotgate.testing.receiver")


class ConnectionListener:
    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    def _listen(self) -> None:
        if self._sock is not None:
            return
        # Binding here, synchronously, makes "listening again" true the moment behave() returns:
        # connections made before the server task runs wait in the backlog instead of failing.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Connections aborted by "down" linger in TIME_WAIT and would block the re-bind.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        self._sock = sock
        self._listener = self._spawn(self._serve(sock))

    async def _serve(self, sock: socket.socket) -> None:
        # With start_serving=False creating the server never suspends, so once this task has
        # run at all `_server` is set and `_stop_listening` closes it rather than the bare socket.
        server = await asyncio.start_server(self._accept, sock=sock, start_serving=False)
        self._server = server
        await server.start_serving()

    def _stop_listening(self) -> asyncio.Server | None:
        server, sock, listener = self._server, self._sock, self._listener
        self._server = self._sock = self._listener = None
        if server is not None:
            # Closes the listening socket before returning: new connections are refused now.
            server.close()
        else:
            # The server task has not run yet, so nothing watches the socket.
            if listener is not None:
                listener.cancel()
            if sock is not None:
                sock.close()
        return server

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback (not a coroutine) so that the task is registered the moment the
        # connection exists: aclose() and "down" can then never miss one.
        if self._server is None:
            # Accepted by the kernel just before "down" or aclose().
            writer.transport.abort()
            return
        task = self._spawn(self._connection(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        del self._connections[task]

    # -- one connection -------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
            writer.close()
            await writer.wait_closed()
        except asyncio.CancelledError:
            # Closing gracefully would wait to flush to a peer that may never read.
            writer.transport.abort()
            raise
        except (OSError, h11.ProtocolError):
            # The peer went away or broke HTTP while being answered: nothing left to tell it.
            writer.transport.abort()
        except Exception:
            log.exception("callback receiver: connection handler failed")
            writer.transport.abort()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
