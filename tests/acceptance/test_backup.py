"""`pilotgate db backup` / `db restore` (issue 18, item 4): a backup taken while a client keeps
sending restores into a fresh database with every message acknowledged before the backup
began, and a balance that is exactly the opening credit less what those messages cost.
SQLite through its online backup; PostgreSQL through pg_dump/pg_restore, on a private
cluster (tests/pgcluster.py) where the test may create databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.pgcluster import private_cluster

from .support import TELE2, TELE2_PRICE, Api, Server, running


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """URLs of the live database and of a fresh, empty one to restore into."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with private_cluster() as cluster:
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE live")
            admin.execute("CREATE DATABASE fresh")
        base = cluster.url.rsplit("/", 1)[0]
        yield f"{base}/live", f"{base}/fresh"


class Sender(threading.Thread):
    """A client sending one SMS after another, noting when each was acknowledged."""

    def __init__(self, api: Api) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.acked: list[tuple[str, float]] = []  # (server_id, when acknowledged)
        self.started_at: dict[str, float] = {}  # server_id → when its request began
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                began = time.monotonic()
                answer = self.api.json(send="backup test", to=TELE2)
                server_id = answer["send"][0]["server_id"]
                self.started_at[server_id] = began
                self.acked.append((server_id, time.monotonic()))
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.failure = exc

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.acked) < count:
            assert self.failure is None and time.monotonic() < deadline, self.failure
            time.sleep(0.01)  # a poll interval, not a synchronisation


def test_a_backup_during_sends_restores_every_acknowledged_message_and_the_balance(
    databases: tuple[str, str], tmp_path: Path, http: httpx.Client
) -> None:
    live_url, fresh_url = databases
    live = Server(tmp_path / "live", "serve", {"PILOTGATE_DATABASE_URL": live_url})
    fresh = Server(tmp_path / "fresh", "serve", {"PILOTGATE_DATABASE_URL": fresh_url})
    for server in (live, fresh):
        server.workdir.mkdir()
    backup = tmp_path / "gate.backup"
    with running(live):
        account = live.create_account(balance="100000.00")
        sender = Sender(Api(http, live.url).as_key(account.key))
        sender.start()
        try:
            sender.wait_for(20)
            began = time.monotonic()
            assert "backed up" in live.cli("db", "backup", str(backup))
            ended = time.monotonic()
            sender.wait_for(len(sender.acked) + 5)  # sends went on during and after it
        finally:
            sender.stop.set()
            sender.join(30)
        assert sender.failure is None, sender.failure
        # Restoring over the database a gateway is using is refused.
        refused = live.run_cli("db", "restore", str(backup))
        assert refused.returncode != 0
        assert "Error:" in refused.stderr and "restore" in refused.stderr, refused.stderr
    assert "restored" in fresh.cli("db", "restore", str(backup))
    with running(fresh):
        api = Api(http, fresh.url).as_key(account.key)
        restored = {item["server_id"] for item in api.all_messages()}
        before = {server_id for server_id, at in sender.acked if at < began}
        assert before <= restored  # every message acknowledged before the backup began
        # Nothing the client had not yet asked for when the backup ended.
        assert all(sender.started_at[server_id] < ended for server_id in restored)
        assert api.balance() == Decimal("100000.00") - TELE2_PRICE * len(restored)


def test_a_backup_of_no_database_fails_cleanly(tmp_path: Path) -> None:
    server = Server(tmp_path, "serve", {"PILOTGATE_DATABASE_URL": "sqlite:///nowhere/x.db"})
    done = server.run_cli("db", "backup", str(tmp_path / "b.db"))
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: no database at nowhere/x.db"
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "b.db.partial").exists()
