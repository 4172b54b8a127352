"""Crash safety (pipeline issue, item 5): `pilotgate serve` is killed with SIGKILL in the
middle of a steady load and started again. Every server_id a client was answered must exist
and reach a final status, no message may reach the emulator twice, and every final status
must be reported by callback. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from pathlib import Path

import httpx

from pilotgate.testing.receiver import CallbackReceiver, ReceivedCallback

from .support import Server, send_load, wait_until

FINAL = {"2", "-1"}


class ReceiverThread:
    """A CallbackReceiver on its own event loop, for a synchronous test."""

    def __init__(self) -> None:
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.receiver: CallbackReceiver | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with CallbackReceiver() as receiver:
            self.receiver = receiver
            self.url = receiver.url_for("/status")
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ReceiverThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedCallback]:
        """The receiver's `wait_for`, from the test's own thread."""
        assert self._loop is not None and self.receiver is not None
        future = asyncio.run_coroutine_threadsafe(
            self.receiver.wait_for(count=count, timeout=timeout), self._loop
        )
        return list(future.result(timeout + 5))

    def final_reports(self) -> Counter[str]:
        """How many final-status callbacks were acknowledged, per server_id."""
        assert self.receiver is not None
        return Counter(
            call.params["server_id"]
            for call in list(self.receiver.acknowledged)
            if call.params.get("status") in FINAL
        )


def test_kill_9_mid_load_loses_nothing_and_hands_nothing_over_twice(
    tmp_path: Path, database: str
) -> None:
    journal = tmp_path / "emulator.journal"
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_EMULATOR_JOURNAL": str(journal),
        "PILOTGATE_EMULATOR_DELAY": "0.3",
        "PILOTGATE_EMULATOR_FAIL_SUFFIXES": "7",
        # Messages left in doubt by the crash end as hand-over unknown (-1, 606) once their
        # lease and handover_unknown_after have passed: make that quick.
        "PILOTGATE_LEASE_SECONDS": "2",
        "PILOTGATE_HANDOVER_UNKNOWN_AFTER": "2",
        "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
        "PILOTGATE_CALLBACK_RETRY_FIRST": "0.3",
        "PILOTGATE_CALLBACK_RETRY_CAP": "1",
        # Callbacks the killed process had leased come back when their lease (2 x timeout
        # + 10 s) runs out.
        "PILOTGATE_CALLBACK_TIMEOUT": "2",
        "PILOTGATE_POLL_INTERVAL": "0.05",
    }
    with ReceiverThread() as receiver:
        first = Server(tmp_path, "serve", settings=settings)
        first.start()
        try:
            account = first.create_account(balance="100000.00")
            first.cli("account", "set", str(account.id), "--status-url", receiver.url)
            answered: list[str] = []
            stop = threading.Event()
            load = threading.Thread(target=send_load, args=(first.url, account.key, answered, stop))
            load.start()
            wait_until(lambda: len(answered) >= 300, 60, "300 answered sends")
        finally:
            assert first._process is not None
            first._process.kill()  # SIGKILL, mid-load
            first._close()
        stop.set()
        load.join(10)
        assert not load.is_alive()
        killed_with = len(answered)

        second = Server(tmp_path, "serve", settings=settings)
        second.start()
        try:
            with httpx.Client(timeout=10) as client:

                def all_final() -> bool:
                    found: dict[str, str] = {}
                    for start in range(0, len(answered), 500):
                        chunk = answered[start : start + 500]
                        body = client.get(
                            second.url + "/api.php",
                            params={
                                "check": ",".join(chunk),
                                "apikey": account.key,
                                "format": "json",
                            },
                        ).json()
                        found.update((i["server_id"], i["status"]) for i in body["check"])
                    return len(found) == len(answered) and set(found.values()) <= FINAL

                wait_until(all_final, 60, "every answered message to reach a final status")
            wait_until(
                lambda: set(receiver.final_reports()) >= set(answered),
                60,
                "a final-status callback for every answered message",
            )
        finally:
            assert second.stop() == 0

    assert killed_with >= 300
    handed = Counter(line.split()[0] for line in journal.read_text().splitlines())
    assert [sid for sid, times in handed.items() if times > 1] == []
    # Every answered message exists; none was lost, and none vanished unreported.
    assert set(receiver.final_reports()) >= set(answered)
    with contextlib.suppress(FileNotFoundError):
        assert "Traceback" not in second.log
