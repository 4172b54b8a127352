"""One voice call through the SIP connector to SIPp on loopback: speech rendering (first
time and cached), G.711 encoding, and how evenly the RTP packets arrive.

Usage: .venv/bin/python bench/sip_call.py [TEXT]     (needs espeak-ng and sipp)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pilotgate.connectors.sip import SipConnector, SipSettings
from pilotgate.connectors.sip.tts import Synthesizer
from pilotgate.domain import audio
from tests.integration.test_sip_link import NOW, Sink, message, until_bound
from tests.sip.peer import RtpSink, Sipp, free_port

TEXT = "Здравствуйте! Ваш заказ номер 4821 доставлен. Спасибо, что выбрали наш магазин."


class TimedSink(RtpSink):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.packets.append(data)
        self.times.append(time.monotonic())


async def main(text: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sip-bench-"))
    tts = Synthesizer(str(tmp / "speech"))
    started = time.perf_counter()
    pcm = await tts.speak(text, "GOLOS")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    await tts.speak(text, "GOLOS")
    warm = time.perf_counter() - started
    started = time.perf_counter()
    audio.encode(pcm, "ulaw")
    encode = time.perf_counter() - started
    print(f"speech {audio.seconds(pcm):.2f} s for {len(text)} characters")
    print(f"render {cold * 1000:.0f} ms, cached {warm * 1000:.1f} ms, G.711 {encode * 1000:.0f} ms")

    sink, port = await TimedSink.open()
    peer = Sipp("answer.xml", tmp, keys={"rtpport": str(port), "codec": "0", "codecname": "PCMU"})
    rtp = free_port()
    settings = {
        "host": "127.0.0.1", "port": peer.port, "local_host": "127.0.0.1",
        "rtp_port_min": rtp - rtp % 2, "rtp_port_max": rtp - rtp % 2 + 10,
        "cache_dir": str(tmp / "speech"),
    }  # fmt: skip
    link = SipConnector(SipSettings.from_json("bench", json.dumps(settings)))
    receipts = Sink()
    await link.start(receipts)
    try:
        await until_bound(link)
        started = time.monotonic()
        await link.submit([message(1, "voice", text)], NOW)
        (receipt,) = await receipts.wait()
        took = time.monotonic() - started
    finally:
        await link.stop()
        await peer.wait()
        peer.stop()
        sink.close()
    gaps = sorted(b - a for a, b in zip(sink.times, sink.times[1:], strict=False))
    span = sink.times[-1] - sink.times[0]
    print(f"receipt {receipt.status.name} {took:.2f} s after the hand-over")
    print(
        f"{len(sink.packets)} RTP packets over {span:.3f} s (ideal {(len(gaps)) * 0.02:.3f} s); "
        f"gaps mean {statistics.mean(gaps) * 1000:.2f} ms, "
        f"p99 {gaps[int(len(gaps) * 0.99)] * 1000:.2f} ms, max {gaps[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else TEXT))
