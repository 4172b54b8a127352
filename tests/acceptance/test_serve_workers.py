"""`serve --workers 2` on PostgreSQL: one worker serves the API, the other runs the pipeline
(docs/decisions.md "One pipeline in `serve --workers N`"), and when the workers are killed
with SIGKILL mid-load the supervisor starts them again, each with its job: every answered
message reaches its final status and none is handed to the emulator twice."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import Server, running, send_load, wait_until

pytestmark = pytest.mark.postgres

FINAL = {"2", "-1"}


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _statuses(url: str, key: str, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    with httpx.Client(timeout=10) as client:
        for start in range(0, len(ids), 500):
            body = client.get(
                url + "/api.php",
                params={"check": ",".join(ids[start : start + 500]), "apikey": key,
                        "format": "json"},
            ).json()  # fmt: skip
            found.update((item["server_id"], item["status"]) for item in body["check"])
    return found


def test_one_worker_runs_the_pipeline_and_comes_back_with_it_after_kill_9(
    tmp_path: Path, database: str
) -> None:
    journal = tmp_path / "emulator.journal"
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_EMULATOR_JOURNAL": str(journal),
        "PILOTGATE_EMULATOR_DELAY": "0.1",
        "PILOTGATE_EMULATOR_FAIL_SUFFIXES": "",
        # Messages the kill leaves in doubt end -1 (606) soon after their lease.
        "PILOTGATE_LEASE_SECONDS": "2",
        "PILOTGATE_HANDOVER_UNKNOWN_AFTER": "2",
        "PILOTGATE_POLL_INTERVAL": "0.05",
    }
    server = Server(tmp_path, "serve", settings=settings, args=("--workers", "2"))
    with running(server):
        assert server._process is not None
        supervisor = server._process.pid
        wait_until(lambda: len(_children(supervisor)) == 2, 30, "two workers")
        account = server.create_account(balance="100000.00")
        answered: list[str] = []
        stop = threading.Event()
        load = threading.Thread(target=send_load, args=(server.url, account.key, answered, stop))
        load.start()
        wait_until(lambda: len(answered) >= 200, 60, "200 answered sends")
        wait_until(
            lambda: set(_statuses(server.url, account.key, answered[:100]).values()) == {"2"},
            60,
            "the first sends delivered",
        )
        # One outbox among the two workers, logged at its start; the API's worker has none.
        assert server.log.count("outbox worker worker-") == 1
        assert httpx.get(server.url + "/healthz").json()["role"] == "api"
        for pid in _children(supervisor):
            os.kill(pid, signal.SIGKILL)  # mid-load: both workers, the pipeline's among them
        wait_until(lambda: len(_children(supervisor)) == 2, 30, "the workers started again")
        stop.set()
        load.join(30)
        assert not load.is_alive()
        wait_until(lambda: set(_statuses(server.url, account.key, answered).values()) <= FINAL
              and len(_statuses(server.url, account.key, answered)) == len(answered),
              60, "every answered message to reach a final status")  # fmt: skip
        # The pipeline came back with its worker, and only there.
        assert server.log.count("outbox worker worker-") == 2
    handed = Counter(line.split()[0] for line in journal.read_text().splitlines())
    assert [sid for sid, times in handed.items() if times > 1] == []
    assert len(answered) >= 200
