"""SIPp (Debian's sip-tester), a SIP peer we did not write, run as a UAS on 127.0.0.1 with
one of the scenarios next to this file; and loopback helpers (free ports, an RTP sink)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Self

import pytest

HERE = Path(__file__).parent
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp (Debian package sip-tester) missing")
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng (Debian package espeak-ng) missing"
)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sipp:
    """`sipp -sf SCENARIO` answering one call (`-m 1`) on a free port; `wait()` gives its
    exit status (0 = the scenario ran to its end, every check passed)."""

    def __init__(
        self,
        scenario: str,
        tmp: Path,
        *,
        keys: dict[str, str] | None = None,
        replace: dict[str, str] | None = None,
        transport: str = "u1",
        calls: int = 1,
    ) -> None:
        text = (HERE / scenario).read_text()
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        path = tmp / f"{scenario}.{free_port()}.xml"
        path.write_text(text)
        kind = socket.SOCK_STREAM if transport.startswith("t") else socket.SOCK_DGRAM
        self.port = free_port(kind)
        assert SIPP is not None
        args = [SIPP, "-sf", str(path), "-i", "127.0.0.1", "-p", str(self.port), "-t", transport]
        args += ["-m", str(calls), "-nostdin", "-timeout", "60", "-timeout_error"]
        args += ["-trace_err", "-error_file", str(tmp / f"sipp-{self.port}.err")]
        args += ["-trace_msg", "-message_file", str(tmp / f"sipp-{self.port}.msg")]
        for key, value in (keys or {}).items():
            args += ["-key", key, value]
        self.messages = tmp / f"sipp-{self.port}.msg"
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp
        )

    async def wait(self) -> int:
        """SIPp's exit status, within 30 s."""
        try:
            async with asyncio.timeout(30):
                return await asyncio.to_thread(self.process.wait)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def log(self) -> str:
        return self.messages.read_text(errors="replace") if self.messages.exists() else ""


class RtpSink(asyncio.DatagramProtocol):
    """Collects the RTP packets a call sends to it; `quiet` is set when none came for a
    while after the first (the speech is over)."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.first = asyncio.Event()
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.packets.append(data)
        self.first.set()

    @classmethod
    async def open(cls) -> tuple[Self, int]:
        loop = asyncio.get_running_loop()
        transport, sink = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        sink.transport = transport
        return sink, int(transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
