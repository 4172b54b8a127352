"""`/healthz` and `/readyz` (issue 18, item 3): JSON, without credentials, on a real `serve`
and on a `worker`'s metrics listener; /readyz says 503 when the schema is not current."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from .support import Server, running, stop_process


def _ready(http: httpx.Client, url: str, timeout: float = 15.0) -> dict[str, Any]:
    """Poll /readyz until it says ready (a pipeline's first round of link leases takes a
    moment after the listener opens); its answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = http.get(url + "/readyz")
        if answer.status_code == 200:
            assert answer.headers["content-type"] == "application/json"
            body: dict[str, Any] = answer.json()
            return body
        assert answer.status_code == 503, answer.text
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.05)  # a poll interval, not a synchronisation


def test_serve_answers_health_and_readiness_without_credentials(
    database: str, tmp_path: Path, http: httpx.Client
) -> None:
    # A token on /metrics: the probes still need none.
    settings = {"PILOTGATE_DATABASE_URL": database, "PILOTGATE_METRICS_TOKEN": "t0ken"}
    with running(Server(tmp_path, "serve", settings)) as server:
        alive = http.get(server.url + "/healthz")
        assert alive.status_code == 200
        assert alive.json() == {"status": "alive", "role": "serve"}
        ready = _ready(http, server.url)
        assert ready["status"] == "ready"
        assert ready["checks"]["database"] == "ok"
        assert ready["checks"]["schema"] == "current"
        assert ready["checks"]["links"]["status"] == "ok"
        assert http.head(server.url + "/readyz").status_code == 200
        assert http.post(server.url + "/healthz").status_code == 405


def test_readiness_fails_while_the_schema_is_behind(tmp_path: Path, http: httpx.Client) -> None:
    with running(Server(tmp_path, "api")) as server:
        assert _ready(http, server.url)["role"] == "api"
        # As after restoring a backup taken before the newest migration.
        db = sqlite3.connect(tmp_path / "pg.db")
        with db:
            newest, at = db.execute(
                "SELECT name, applied FROM schema_migrations ORDER BY name DESC LIMIT 1"
            ).fetchone()
            db.execute("DELETE FROM schema_migrations WHERE name = ?", (newest,))
        answer = http.get(server.url + "/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["schema"] == {"pending": [newest]}
        assert http.get(server.url + "/healthz").status_code == 200  # alive all the same
        with db:
            db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (newest, at))
        db.close()
        assert _ready(http, server.url)["checks"]["schema"] == "current"


def test_a_worker_answers_its_probes_on_the_metrics_listener(
    tmp_path: Path, http: httpx.Client
) -> None:
    server = Server(tmp_path, "worker", {"PILOTGATE_METRICS_LISTEN": "127.0.0.1:0"})
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pilotgate", "worker"],
            stdout=subprocess.PIPE,
            stderr=log,
            env=server.env,
            text=True,
            cwd=tmp_path,
        )
        try:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "PilotGate worker running"
            line = worker.stdout.readline().strip()
            assert line.startswith("Metrics on "), line
            url = line.removeprefix("Metrics on ").removesuffix("/metrics")
            assert http.get(url + "/healthz").json() == {"status": "alive", "role": "worker"}
            ready = _ready(http, url)
            assert ready["checks"]["links"] == {"status": "ok", "held": []}
        finally:
            assert stop_process(worker) == 0
            assert worker.stdout is not None
            worker.stdout.close()
