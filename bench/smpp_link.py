"""Messages per second through one SMPP link, receipts included, window 10 and 50.

Usage: .venv/bin/python bench/smpp_link.py [COUNT]

The SMSC simulator runs in its own process (`pilotgate smsc-sim`, receipts at once), the link
in this one with an Events sink that only counts. A run ends when every submit_sm has its
response and every receipt has been reported (and acknowledged after the sink returned).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pilotgate.connectors.smpp import SmppConnector, SmppSettings
from pilotgate.domain.messages import Message, Status

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
BATCH = 200  # messages per submit() call, as the pipeline hands them over
NOW = datetime.now(UTC)


class Counting:
    def __init__(self) -> None:
        self.count = 0
        self.done = asyncio.Event()
        self.target = 0

    async def receipts(self, connector: str, receipts: list[object]) -> None:
        self.count += len(receipts)
        if self.count >= self.target:
            self.done.set()

    async def inbound(self, connector: str, messages: list[object]) -> None:
        pass


def message(i: int) -> Message:
    return Message(
        server_id=i, packet_id=i, account_id=1, phone=f"7999{i:07d}", sender="INFORM",
        sender_orig="", text=f"Your code is {i:06d}", parts=1, channel="sms", price=100,
        status=Status.ACCEPTED, error=0, send_datetime=None, ttl=None, callback=None,
        callback_method=None, created=NOW, modified=NOW, country="RU", operator="", test=False,
    )  # fmt: skip


async def run(port: int, window: int) -> float:
    settings = SmppSettings(
        name="bench", host="127.0.0.1", port=port, system_id="bench", password="pw",
        window=window,
    )  # fmt: skip
    events = Counting()
    events.target = COUNT
    link = SmppConnector(dataclasses.replace(settings))
    await link.start(events)  # type: ignore[arg-type]
    await link.wait_bound()
    messages = [message(i) for i in range(1, COUNT + 1)]
    started = time.perf_counter()
    batches = [messages[i : i + BATCH] for i in range(0, COUNT, BATCH)]
    gate = asyncio.Semaphore(max(1, window // 10) * 4)

    async def one(batch: list[Message]) -> None:
        async with gate:
            await link.submit(batch, NOW)

    await asyncio.gather(*(one(b) for b in batches))
    submitted = time.perf_counter() - started
    await asyncio.wait_for(events.done.wait(), 120)
    elapsed = time.perf_counter() - started
    await link.stop()
    print(
        f"window {window}: {COUNT} messages, submit_sm_resp all in {submitted:.2f}s, "
        f"receipts all in {elapsed:.2f}s -> {COUNT / elapsed:,.0f} msg/s with receipts"
    )
    return COUNT / elapsed


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = Path(sys.executable).with_name("pilotgate")
    smsc = subprocess.Popen(
        [cli, "smsc-sim", "--port", str(port), "--receipt-delay", "0"], stdout=subprocess.PIPE
    )
    try:
        assert smsc.stdout is not None
        smsc.stdout.readline()  # "SMSC simulator on …": it listens
        for window in (10, 50):
            asyncio.run(run(port, window))
    finally:
        smsc.terminate()
        smsc.wait()


if __name__ == "__main__":
    main()
