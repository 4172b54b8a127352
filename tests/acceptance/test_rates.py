"""Per-account rates through the real HTTP API (contract §17.5): API requests per second,
refused past the limit with 223 as HTTP 429 and `Retry-After`, held by two API processes
on one PostgreSQL together; and messages per second leaving the queue, which shapes one
account's burst without holding up another account's message."""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import TELE2, Account, Server, error_json, error_xml, running

BURST = 40


def _burst(client: httpx.Client, url: str, key: str, count: int) -> list[httpx.Response]:
    return [
        client.get(url + "/api.php", params={"balance": "rur", "apikey": key, "format": "json"})
        for _ in range(count)
    ]


def test_past_its_rate_an_account_is_refused_with_429_and_retry_after(
    gate: Server, http: httpx.Client, new_account: Callable[..., Account]
) -> None:
    account, other = new_account(), new_account()
    out = gate.cli("account", "set", str(account.id), "--api-rps", "2")
    assert out.strip() == f"account {account.id}: api_rps=2 mps=0"
    started = time.monotonic()
    answers = _burst(http, gate.url, account.key, BURST)
    elapsed = time.monotonic() - started
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    # A full bucket lets one second's worth through, then two a second.
    assert answers[0].status_code == 200 and "balance" in answers[0].json()
    assert 2 <= len(accepted) <= 2 * (1 + math.ceil(elapsed))
    assert len(refused) == BURST - len(accepted)
    for answer in refused:
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "1"
        assert answer.json() == error_json(223)
    # In the format asked for, API-2 too.
    xml = http.get(
        gate.url + "/api.php", params={"balance": "rur", "apikey": account.key, "format": "xml"}
    )
    if xml.status_code == 429:
        assert xml.text == error_xml(223)
    api2 = http.post(gate.url + "/api2.php", json={"apikey": account.key, "balance": "rur"})
    assert api2.status_code in (200, 429)
    if api2.status_code == 429:
        assert api2.json() == error_json(223)
    # Another account is not slowed at all.
    assert all(a.status_code == 200 for a in _burst(http, gate.url, other.key, 10))


def test_the_operator_sets_rates_from_the_cli(gate: Server) -> None:
    account = gate.create_account()
    gate.cli("account", "set", str(account.id), "--api-rps", "7", "--mps", "3")
    shown = gate.cli("account", "set", str(account.id), "--mps", "default")
    assert shown.strip() == f"account {account.id}: api_rps=7 mps=0"
    bad = gate.run_cli("account", "set", str(account.id), "--api-rps", "fast")
    assert bad.returncode != 0
    assert "Invalid value for --api-rps: not a rate per second" in bad.stderr


@contextlib.contextmanager
def _two_api_processes(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with fresh_schema() as database:
        settings = {"PILOTGATE_DATABASE_URL": database, "PILOTGATE_METRICS_PUBLIC": "true"}
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        one = Server(tmp_path / "one", "api", settings=settings)
        two = Server(tmp_path / "two", "api", settings=settings)
        with running(one), running(two):
            yield one, two


def _refusals(server: Server, client: httpx.Client) -> float:
    found = re.search(
        r"^pilotgate_rate_refusals_total (\S+)$", client.get(server.url + "/metrics").text, re.M
    )
    assert found
    return float(found.group(1))


@pytest.mark.postgres
def test_two_api_processes_hold_one_rate_together(tmp_path: Path) -> None:
    rps = 5
    with _two_api_processes(tmp_path) as (one, two), httpx.Client(timeout=30) as client:
        account = one.create_account()
        one.cli("account", "set", str(account.id), "--api-rps", str(rps))
        started = time.monotonic()
        # Two clients on each process at once.
        with ThreadPoolExecutor(4) as pool:
            halves = list(
                pool.map(lambda s: _burst(client, s.url, account.key, BURST // 2), [one, two] * 2)
            )
        elapsed = time.monotonic() - started
        answers = [halves[0] + halves[2], halves[1] + halves[3]]
        accepted = [sum(a.status_code == 200 for a in each) for each in answers]
        # Each process took a slice from the one bucket (a slice of one at 5 a second);
        # together they let through one second's worth plus 5 a second, never each that.
        assert min(accepted) >= 1
        assert sum(accepted) <= rps * (1 + math.ceil(elapsed))
        codes = Counter(a.status_code for each in answers for a in each)
        assert codes == {200: sum(accepted), 429: 2 * BURST - sum(accepted)}
        # Each process counts its own refusals in /metrics.
        assert _refusals(one, client) == BURST - accepted[0]
        assert _refusals(two, client) == BURST - accepted[1]


def test_one_account_s_burst_is_shaped_and_another_s_message_goes_at_once(
    tmp_path: Path, database: str
) -> None:
    journal = tmp_path / "emulator.journal"
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_EMULATOR_JOURNAL": str(journal),
        "PILOTGATE_EMULATOR_DELAY": "0.05",
        "PILOTGATE_EMULATOR_FAIL_SUFFIXES": "",
        "PILOTGATE_POLL_INTERVAL": "0.02",
        # Every account's default (an account's own rate reaches running workers within
        # seconds, which a test would have to wait for).
        "PILOTGATE_DEFAULT_MPS": "10",
    }
    mps, count = 10, 40
    with running(Server(tmp_path, "serve", settings=settings)) as gate:
        busy = gate.create_account(balance="10000.00")
        quiet = gate.create_account()
        with httpx.Client(timeout=30) as client:

            def send(account: Account, to: str) -> list[str]:
                body = client.post(
                    gate.url + "/api.php",
                    data={"send": "x", "to": to, "apikey": account.key, "format": "json"},
                ).json()
                return [item["server_id"] for item in body["send"]]

            burst = send(busy, ",".join(f"7916555{n:04d}" for n in range(count)))
            single = send(quiet, TELE2)
            deadline = time.monotonic() + 60
            while len(journal.read_text().splitlines()) < count + 1 if journal.exists() else True:
                assert time.monotonic() < deadline, "the queue did not drain"
                time.sleep(0.1)  # a poll interval, not a synchronisation
    handed = [line.split()[0] for line in journal.read_text().splitlines()]
    assert sorted(handed) == sorted([*burst, *single])
    # The busy account's messages leave in their order, its first share at once; the other
    # account's message goes in the next claim round, not after the burst.
    assert [sid for sid in handed if sid in burst] == burst
    assert handed.index(single[0]) <= 2 * mps
    assert handed[:mps] == burst[:mps]
