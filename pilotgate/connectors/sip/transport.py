"""Moving SIP messages and RTP packets: asyncio UDP and TCP, nothing else.

Each whole message that arrives is given to `deliver` (already cut from the TCP stream);
what cannot be sent is dropped and counted by the caller, as a lost UDP datagram would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from pilotgate.errors import ConnectorError

from .message import ParseError, SipFramer

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], None]


def local_address(host: str, port: int) -> str:
    """The address this machine uses to reach host:port (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self._deliver(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the call's timers decide what it means.
        log.debug("sip udp: %s", exc)


class SipTransport:
    """One socket to the trunk: UDP (unconnected, so answers from any port of the trunk
    arrive) or a TCP connection (`lost` is set when it drops)."""

    def __init__(self, kind: str, host: str, port: int, deliver: Deliver) -> None:
        self.kind, self._peer, self._deliver = kind, (host, port), deliver
        self._udp: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()  #: set while not open (and when a TCP connection drops)
        self.lost.set()
        self.local_port = 0

    async def open(self, bind_host: str, bind_port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self.kind == "udp":
                self._udp, _ = await loop.create_datagram_endpoint(
                    lambda: _Datagrams(self._deliver), local_addr=(bind_host, bind_port)
                )
                self.local_port = self._udp.get_extra_info("sockname")[1]
                self.lost.clear()
                return
            async with asyncio.timeout(5):
                reader, self._writer = await asyncio.open_connection(
                    *self._peer, local_addr=(bind_host, bind_port) if bind_port else None
                )
        except (OSError, TimeoutError) as exc:
            raise ConnectorError(f"sip: cannot open {self.kind} to {self._peer}: {exc}") from exc
        self.local_port = self._writer.get_extra_info("sockname")[1]
        self.lost.clear()
        self._reader_task = asyncio.create_task(self._read(reader), name="sip-tcp-reader")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        framer = SipFramer()
        try:
            while data := await reader.read(65536):
                for message in framer.feed(data):
                    self._deliver(message)
        except (OSError, ParseError) as exc:
            log.warning("sip tcp to %s: %s", self._peer, exc)
        finally:
            self.lost.set()

    def send(self, data: bytes) -> bool:
        if self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(data, self._peer)
            return True
        if self._writer is not None and not self._writer.is_closing() and not self.lost.is_set():
            self._writer.write(data)
            return True
        return False

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None
        if self._reader_task is not None:
            self._reader_task.cancel()
            await asyncio.gather(self._reader_task, return_exceptions=True)
            self._reader_task = None
        self.lost.set()


class RtpSocket(asyncio.DatagramProtocol):
    """Our end of a call's audio: bound to the first free port of the range (a port another
    program holds is skipped), closed when the call ends."""

    transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, host: str, ports: range, start: int) -> RtpSocket:
        loop = asyncio.get_running_loop()
        count = len(ports)
        for step in range(count):
            port = ports[(start + step) % count]
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    cls, local_addr=(host, port)
                )
            except OSError:
                continue
            protocol.transport = transport
            protocol.port = port
            return protocol
        raise ConnectorError(f"sip: no free RTP port in {ports.start}-{ports.stop - 1}")

    port: int = 0

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        """The phone's audio is not used (our calls only speak)."""

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp: %s", exc)

    def send(self, packet: bytes, to: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(packet, to)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
