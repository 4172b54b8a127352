"""Voice and flash calls through the real gateway (issue 7): `pilotgate serve` with three
SIP connectors, each pointed at its own SIPp on loopback (answers and records our audio,
busy, rings until cancelled). Statuses, charges and callbacks are checked for each; a text
too long to speak is refused at send time (221)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx

from pilotgate.connectors.sip import tts
from pilotgate.domain import speech
from tests.sip.peer import Sipp, needs_espeak, needs_sipp

from .support import Api, Server, error_json, running
from .test_crash import ReceiverThread

VOICE, FLASH = Decimal("6.50"), Decimal("0.80")  # default tariff, +7


class RtpRecorder:
    """A UDP socket the answering SIPp's SDP points our audio at; counts the packets."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = int(self.socket.getsockname()[1])
        self.packets: list[bytes] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._done.is_set():
            try:
                self.packets.append(self.socket.recv(2048))
            except TimeoutError:
                continue

    def close(self) -> None:
        self._done.set()
        self._thread.join(5)
        self.socket.close()


def _wait(predicate: Callable[[], bool], what: Callable[[], str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)  # a poll interval, not a synchronisation


@needs_sipp
@needs_espeak
def test_voice_busy_and_flash_calls_end_to_end(tmp_path: Path) -> None:
    recorder = RtpRecorder()
    keys = {"rtpport": str(recorder.port), "codec": "8", "codecname": "PCMA"}
    answering = Sipp("answer.xml", tmp_path, keys=keys)
    busy = Sipp("busy.xml", tmp_path, replace={"CODE": "486", "REASON": "Busy Here"})
    ringing = Sipp("ring.xml", tmp_path, replace={"CALLER_RE": "749500054321"})
    settings = {
        "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
        "PILOTGATE_POLL_INTERVAL": "0.05",
        "PILOTGATE_LINK_LEASE_SECONDS": "3",
        "PILOTGATE_VOICE_MAX_SECONDS": "20",
        "PILOTGATE_SPEECH_CACHE_DIR": str(tmp_path / "speech"),
    }
    server = Server(tmp_path, "serve", settings=settings)
    try:
        with ReceiverThread() as receiver, running(server), httpx.Client(timeout=30) as http:
            for name, peer in (("talk", answering), ("busy", busy), ("flash", ringing)):
                out = server.cli(
                    "connector", "add", "sip", name, "--host", "127.0.0.1",
                    "--port", str(peer.port), "--caller-pool", "7495000", "--max-calls", "2",
                    "--set", "local_host=127.0.0.1", "--set", "answer_timeout=5",
                )  # fmt: skip
                assert f"connector {name} (sip)" in out
            server.cli("route", "add", "79161", "voice", "talk")
            server.cli("route", "add", "79162", "voice", "busy")
            server.cli("route", "add", "7916", "flashcall", "flash")
            bad = server.run_cli("connector", "add", "sip", "x", "--host", "h", "--set", "port=0")
            assert bad.returncode != 0 and "setting 'port' must be 1-65535" in bad.stderr
            account = server.create_account(balance="100.00")
            client = Api(http, server.url, account.key)
            callback = receiver.url + "?fields=price"

            assert client.json(send="слово " * 80, to="79161234567", **{"from": "GOLOS"}) == (
                error_json(221)
            )
            (talk,) = client.json(
                send="Ваш код 1234", to="79161234567", callback=callback, **{"from": "GOLOS"}
            )["send"]
            (no,) = client.json(
                send="Your code is 1234", to="79162234567", callback=callback,
                **{"from": "GOLOSM"},
            )["send"]  # fmt: skip
            (flash,) = client.json(
                send="54321", to="79163234567", callback=callback, **{"from": "FLASHCALL"}
            )["send"]
            assert (talk["price"], no["price"], flash["price"]) == ("6.50", "6.50", "0.80")

            done = {
                key: client.wait_status(item["server_id"], timeout=40)
                for key, item in (("talk", talk), ("busy", no), ("flash", flash))
            }
            assert (done["talk"]["status"], done["talk"]["error"]) == ("2", "0")
            assert (done["busy"]["status"], done["busy"]["error"]) == ("-1", "601")
            assert (done["flash"]["status"], done["flash"]["error"]) == ("2", "0")
            assert (done["talk"]["sender"], done["busy"]["sender"]) == ("GOLOS", "GOLOSM")
            # A -1 stays charged, like any message that was handed over.
            assert client.balance() == Decimal("100.00") - 2 * VOICE - FLASH

            got = receiver.receiver
            assert got is not None
            finals = {"2", "-1"}
            _wait(
                lambda: len([c for c in got.acknowledged if c.params["status"] in finals]) >= 3,
                lambda: f"{[c.params for c in got.requests]}\n{server.log}",
            )
            by_id = {
                c.params["server_id"]: c.params
                for c in got.acknowledged
                if c.params["status"] in finals
            }
            assert by_id[talk["server_id"]]["status"] == "2"
            assert by_id[no["server_id"]]["error"] == "601"
            assert by_id[flash["server_id"]]["price"] == "0.80"
            for peer in (answering, busy, ringing):
                assert peer.process.wait(30) == 0, peer.log()
            assert "Traceback" not in server.log, server.log
    finally:
        for peer in (answering, busy, ringing):
            peer.stop()
        recorder.close()
    # The speech of "Ваш код 1234" (as cached) arrived whole, at 160 samples a packet.
    voice = speech.voice_for("GOLOS", "Ваш код 1234")
    cached = tmp_path / "speech" / f"{speech.cache_key('Ваш код 1234', voice, tts.FORMAT)}.pcm"
    assert len(list((tmp_path / "speech").glob("*.pcm"))) == 2  # the busy call's text too
    assert len(recorder.packets) == -(-cached.stat().st_size // 320)
    assert "CANCEL sip:79163234567@" in ringing.log()
