"""The SMS-pumping defence through the real HTTP API, CLI and console (contract §17.6), with
the default settings: an attack on one range of numbers is held (status 4, seen through
check, not charged), the operator releases (charged, sent) or rejects (-2, 223, the balance
as before) it; ordinary OTP traffic passes; two processes share the counters."""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.dashboard.support import OPERATOR_EMAIL, OPERATOR_PASSWORD, Web
from tests.postgres import fresh_schema

from .support import Account, Api, Server, running

#: Twelve numbers of one block of 1000 (79087964xxx: Tele2, 3.95 a message), in no order.
BLOCK = [f"79087964{n:03d}" for n in random.Random(16).sample(range(1000), 12)]
PRICE = Decimal("3.95")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def gate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A demo gateway with the defence as the settings' defaults have it (the suite's shared
    one runs without it)."""
    with contextlib.ExitStack() as stack:
        settings = {"PILOTGATE_PUMPING": "1"}
        if request.param == "postgres":
            settings["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = Server(tmp_path_factory.mktemp("defended"), "demo", settings=settings)
        server = stack.enter_context(running(server))
        server.cli("operator", "add", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
        yield server


@pytest.fixture(scope="module")
def api(gate: Server, http: httpx.Client) -> Api:
    return Api(http, gate.url)


@pytest.fixture(scope="module")
def new_account(gate: Server) -> Callable[..., Account]:
    return gate.create_account


def attack(client: Api, numbers: list[str]) -> list[dict[str, str]]:
    """One OTP request per number, as a bot on a sign-up form sends them."""
    return [client.json(send=f"Code {n}", to=phone)["send"][0] for n, phone in enumerate(numbers)]


def test_an_attack_is_held_and_released_by_the_operator(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    items = attack(client, BLOCK)
    assert [item["status"] for item in items] == ["0"] * 10 + ["4"] * 2
    assert client.balance() == Decimal("1000.00") - 10 * PRICE
    held = [item["server_id"] for item in items[10:]]
    assert {client.json(check=i)["check"][0]["status"] for i in held} == {"4"}
    listing = gate.cli("held", "list")
    assert f"account={account.id} messages=2 price=7.90" in listing
    assert "pilotgate_held_messages" in httpx.get(f"{gate.url}/metrics").text

    assert gate.cli("held", "release", str(account.id)).strip() == "released 2 charged 7.90"
    assert client.balance() == Decimal("1000.00") - 12 * PRICE
    assert {client.wait_status(i)["status"] for i in held} == {"2"}
    assert f"account={account.id}" not in gate.cli("held", "list")
    assert "held.release" in gate.cli("audit", str(account.id))


def test_a_rejected_attack_ends_223_and_costs_nothing(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    account = new_account()
    client = api.as_key(account.key)
    items = attack(client, BLOCK)
    held = [item["server_id"] for item in items if item["status"] == "4"]
    assert len(held) == 2
    before = client.balance()
    assert gate.cli("held", "reject", str(account.id)).strip() == "rejected 2"
    assert client.balance() == before == Decimal("1000.00") - 10 * PRICE
    for server_id in held:
        item = client.wait_status(server_id, final=("-2",))
        assert (item["error"], item["price"]) == ("223", "0.00")
    # A second word on them changes nothing.
    assert gate.cli("held", "release", str(account.id)).strip() == "released 0 charged 0.00"


def test_sequential_numbers_in_one_request_are_held(
    api: Api, new_account: Callable[..., Account]
) -> None:
    client = api.as_key(new_account().key)
    answer = client.json(send="Code 1", to="79087965001,79087965002,79087965003,79087965004")
    assert [item["status"] for item in answer["send"]] == ["4"] * 4
    assert answer["cost"] == "0.00"
    assert client.balance() == Decimal("1000.00")


def test_ordinary_otp_traffic_passes(api: Api, new_account: Callable[..., Account]) -> None:
    rng = random.Random(3)
    clients = [api.as_key(new_account().key) for _ in range(3)]
    statuses = set()
    for n in range(45):
        phone = f"79{rng.choice(['08', '16', '26', '03', '12', '50'])}{rng.randrange(10**7):07d}"
        statuses.add(clients[n % 3].json(send=f"Code {n}", to=phone)["send"][0]["status"])
        if n % 5 == 0:  # the user did not get it and asks again
            statuses.add(clients[n % 3].json(send="Code again", to=phone)["send"][0]["status"])
    assert statuses == {"0"}


def test_two_processes_share_the_counters(tmp_path: Path, database: str) -> None:
    settings = {
        "PILOTGATE_DATABASE_URL": database,
        "PILOTGATE_PIPELINE": "false",
        "PILOTGATE_PUMPING": "1",
    }
    first, second = (Server(tmp_path / n, "serve", settings=settings) for n in ("a", "b"))
    for server in (first, second):
        server.workdir.mkdir()
    with running(first), running(second), httpx.Client(timeout=30) as http:
        account = first.create_account()
        clients = [Api(http, s.url, account.key) for s in (first, second)]

        def send(n: int) -> str:
            return str(clients[n % 2].json(send="Code", to=BLOCK[n])["send"][0]["status"])

        with ThreadPoolExecutor(4) as pool:
            statuses = sorted(pool.map(send, range(12)))
        # Six through each process, one count: the two past the limit are held.
        assert statuses == ["0"] * 10 + ["4"] * 2
        assert f"account={account.id} messages=2" in first.cli("held", "list")


def test_the_console_held_page_releases_and_rejects_batches(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    sending, attacked = new_account(), new_account()
    clients = {a.id: api.as_key(a.key) for a in (sending, attacked)}
    for client in clients.values():
        attack(client, BLOCK)
    operator = Web(gate.url)
    try:
        assert operator.login(OPERATOR_EMAIL, OPERATOR_PASSWORD, "console").status_code == 303
        page = operator.get("/console/held")
        for account_id in clients:
            row = f'<a href="/console/accounts/{account_id}">{account_id}</a></td><td>2</td>'
            assert row in page.text
        assert "7.90" in page.text  # what releasing one batch charges
        assert operator.post(f"/console/held/{sending.id}/release").status_code == 303
        assert clients[sending.id].balance() == Decimal("1000.00") - 12 * PRICE
        assert operator.post(f"/console/held/{attacked.id}/reject").status_code == 303
        assert clients[attacked.id].balance() == Decimal("1000.00") - 10 * PRICE
        statuses = {m["status"] for m in clients[attacked.id].all_messages()}
        assert "-2" in statuses and "4" not in statuses
        page = operator.get("/console/held")
        for account_id in clients:
            assert f'href="/console/accounts/{account_id}"' not in page.text
    finally:
        operator.close()
    assert "held.release" in gate.cli("audit", str(sending.id))


def test_the_cabinet_spend_counts_held_messages_once_released_and_rejected_never(
    gate: Server, api: Api, new_account: Callable[..., Account]
) -> None:
    released, rejected = new_account(), new_account()
    for account in (released, rejected):
        attack(api.as_key(account.key), BLOCK)

    def spend(account: Account) -> str:
        cabinet = Web(gate.url)
        try:
            assert cabinet.login(account.email, account.password).status_code == 303
            page = cabinet.get("/cabinet/stats?days=2").text
        finally:
            cabinet.close()
        match = re.search(r'id="total-spend"[^>]*>([^<]+)<', page)
        assert match, page
        return match.group(1)

    assert spend(released) == spend(rejected) == "39.50 ₽"  # 10 sent; the 2 held not spent
    gate.cli("held", "release", str(released.id))
    gate.cli("held", "reject", str(rejected.id))
    assert spend(released) == "47.40 ₽"
    assert spend(rejected) == "39.50 ₽"
