"""What one customer session writes: every PDU of an event-loop turn goes out in one write.

Why: a group commit answers up to a window of submit_sm in one turn, and the delivery pump
sends its deliver_sm in a burst; one write (one send(2)) per PDU was about a tenth of the
serving process's time in the SMPP bench (docs/performance.md "SMPP server"). The PDUs are
joined in the order they were written and flushed at the start of the next turn, so an
answer waits for nothing but the callbacks already due.

A client that does not read its answers: past `limit` bytes waiting in the transport, the
connection is aborted and `on_stuck` told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Outgoing:
    def __init__(
        self,
        writer: asyncio.StreamWriter,
        *,
        limit: int,
        on_stuck: Callable[[], None],
        address: str,
    ) -> None:
        self._writer, self._limit = writer, limit
        self._on_stuck, self._address = on_stuck, address
        self._parts: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        """Queue `data` for this turn's write (nothing once the connection is closing)."""
        self._parts.append(data)
        if len(self._parts) == 1:
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what is queued now (close calls it so that a last answer still goes)."""
        if not self._parts:
            return
        data = b"".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts.clear()
        transport = self._writer.transport
        if transport.is_closing():
            return
        self._writer.write(data)
        if transport.get_write_buffer_size() > self._limit:
            log.info("SMPP %s does not read its answers; closing", self._address)
            transport.abort()
            self._on_stuck()
