"""A callback job whose URL's host has no IDNA form (stored before `add_sender` checked it,
issue 12 item 6) ends in one recorded, final failed attempt: it is not leased again and
again without an attempt, as it was when resolving it raised."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx

from tests.acceptance.support import Api, Server, running


def _job(db: Path) -> tuple[int, int, str, bool] | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT attempts, failed, last_error, done_at IS NOT NULL FROM callbacks "
            "WHERE kind = 'sender'"
        ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]), bool(row[3]))


def test_a_sender_verdict_to_an_unencodable_host_is_one_final_failed_attempt(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, "serve", settings={"PILOTGATE_POLL_INTERVAL": "0.05"})
    account = server.create_account(balance="1.00")
    with running(server), httpx.Client(timeout=30) as http:
        api = Api(http, server.url, account.key)
        answer = api.json(
            add_sender="SHOPNAME", description="our shop", callback="https://ok.example.invalid/"
        )
        assert "error" not in answer, answer
        sender_id = server.cli("sender", "list", str(account.id)).split("\t")[0]
        db = tmp_path / "pg.db"
        with sqlite3.connect(db) as conn:  # as a row stored before the boundary checked it
            conn.execute("UPDATE senders SET callback = 'http://a..b/verdict'")
        server.cli("sender", "approve", sender_id)
        deadline = time.monotonic() + 20
        while (job := _job(db)) is None or not job[3]:
            assert time.monotonic() < deadline, f"the job never ended: {job}\n{server.log}"
            time.sleep(0.05)
    attempts, failed, error, done = job
    assert (attempts, failed, done) == (1, 1, True)
    assert "a..b" in error
