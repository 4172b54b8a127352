"""A rolling upgrade on PostgreSQL (docs/upgrades.md), from the previous tagged release to this
code, with traffic flowing the whole time: a node of the old release serves; this release's
`db upgrade` runs under it; a node of this release starts beside it; the old node is taken
out of the balancer's list and stopped. Every send answered by either node is stored once,
handed to the operator once and charged once; none is refused along the way.

The previous release is read from git (`git archive` of its tag, or of the commit named
"Release X.Y.Z"): its `pilotgate` package runs from that copy, on this environment's
dependencies, the way an older node of a cluster keeps running its own code.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import MTS_PRICE, Server

pytestmark = pytest.mark.postgres

PREVIOUS = "0.2.0"
ROOT = Path(__file__).resolve().parents[2]
PHONE = "7916123{:04d}"  # MTS, delivered by the emulator (no number ends in 0 below)


def _previous_release(into: Path) -> Path:
    """The previous release's source tree, or skip when this checkout has no git history."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the previous release cannot be read")

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--verify", "--quiet", f"v{PREVIOUS}^{{commit}}") or git(
        "log", "--format=%H", "-1", f"--grep=^Release {PREVIOUS}$"
    )
    if not commit:
        pytest.skip(f"release {PREVIOUS} is not in this checkout's history (a shallow clone?)")
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "pilotgate"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


class Traffic:
    """Single API-1 sends, one after the other, to whichever nodes are in the balancer's
    list at the time, round robin; what each answered is kept."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.nodes: list[str] = []
        self.answered: list[tuple[str, str]] = []  # (node, server_id)
        self.refused: list[str] = []
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(1, 10_000):
                if self._stop.is_set():
                    return
                with self.changed:
                    node = self.nodes[n % len(self.nodes)]
                try:
                    answer = client.post(
                        node + "/api.php",
                        data={
                            "send": f"upgrade {n}",
                            "to": PHONE.format(n % 9000 + 1),
                            "apikey": self.key,
                            "format": "json",
                        },
                    ).json()
                except httpx.ConnectError:
                    with self.changed:
                        if node not in self.nodes:
                            continue  # taken out of the list as we picked it: no send made
                    raise
                with self.changed:
                    if "send" in answer:
                        self.answered.append((node, answer["send"][0]["server_id"]))
                    else:
                        self.refused.append(repr(answer))
                    self.changed.notify_all()

    def start(self, node: str) -> None:
        self.nodes.append(node)
        self._thread.start()

    def wait(self, more: int, node: str | None = None) -> None:
        """Until `more` further sends were answered (by `node`, when given)."""

        def count() -> int:
            return sum(1 for by, _ in self.answered if node in (None, by))

        with self.changed:
            target = count() + more
            assert self.changed.wait_for(lambda: count() >= target or self.refused, 120)
            assert not self.refused, self.refused[:3]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def test_a_rolling_upgrade_from_the_previous_release_loses_and_doubles_nothing(
    tmp_path: Path, database: str
) -> None:
    old_code = _previous_release(tmp_path / "release")
    journal = tmp_path / "emulator.journal"
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_EMULATOR_JOURNAL": str(journal),
        "PILOTGATE_EMULATOR_DELAY": "0.05",
        "PILOTGATE_EMULATOR_FAIL_SUFFIXES": "",
        "PILOTGATE_POLL_INTERVAL": "0.02",
        "PILOTGATE_CLAIM_BATCH": "20",
    }
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = Server(tmp_path / "old", "serve", settings={**settings, "PYTHONPATH": str(old_code)})
    new = Server(tmp_path / "new", "serve", settings=settings)
    old.start()
    try:
        assert old.cli("--version").endswith(f"version {PREVIOUS}\n")
        account = old.create_account(balance="100000.00")
        traffic = Traffic(account.key)
        traffic.start(old.url)
        try:
            traffic.wait(50)
            upgraded = new.run_cli("db", "upgrade")
            assert upgraded.returncode == 0, upgraded.stderr
            traffic.wait(50, old.url)  # the old node still serves on the new schema
            new.start()
            with traffic.changed:
                traffic.nodes.append(new.url)
            traffic.wait(50, new.url)
            with traffic.changed:  # drained from the balancer, then stopped
                traffic.nodes.remove(old.url)
            assert old.stop() == 0, old.log
            traffic.wait(50, new.url)
        finally:
            traffic.stop()
        ids = [server_id for _, server_id in traffic.answered]
        assert len(ids) == len(set(ids))
        with httpx.Client(timeout=30) as client:
            wanted = {str(i) for i in ids}
            for _ in range(600):  # until every message is delivered
                states = client.get(
                    new.url + "/api.php",
                    params={
                        "check": ",".join(sorted(wanted)),
                        "apikey": account.key,
                        "format": "json",
                    },
                ).json()["check"]
                if all(item["status"] == "2" for item in states):
                    break
                time.sleep(0.1)  # a poll interval, not a synchronisation
            assert all(item["status"] == "2" for item in states), states[:3]
            balance = Decimal(
                client.get(
                    new.url + "/api.php", params={"balance": "rur", "apikey": account.key}
                ).text
            )
        assert balance == Decimal("100000.00") - MTS_PRICE * len(ids)
        handed = Counter(line.split()[0] for line in journal.read_text().splitlines())
        assert set(handed) == {str(i) for i in ids}
        assert max(handed.values()) == 1
    finally:
        for node in (old, new):
            if node._process is not None and node._process.returncode is None:
                node.stop()
        assert "Traceback" not in old.log + new.log
