"""One `pilotgate demo` for the dashboard tests (on SQLite, and on PostgreSQL), with a
console operator created through `pilotgate operator add`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.acceptance.support import Account, Server, running
from tests.postgres import fresh_schema

from .support import OPERATOR_EMAIL, OPERATOR_PASSWORD, Web


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with contextlib.ExitStack() as stack:
        settings = {
            "PILOTGATE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
            "PILOTGATE_CALLBACK_RETRY_FIRST": "1",
            "PILOTGATE_DASHBOARD_MAX_FORM_BYTES": "20000",
            "PILOTGATE_DASHBOARD_MAX_UPLOAD_BYTES": "100000",
            # A text search examines 60 messages a page (all of test_history_filters_pages_and_csv)
            "PILOTGATE_DASHBOARD_SEARCH_WINDOW": "60",
        }
        if request.param == "postgres":
            settings["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = Server(tmp_path_factory.mktemp("dash"), "demo", settings=settings)
        server = stack.enter_context(running(server))
        server.cli("operator", "add", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
        yield server


@pytest.fixture
def web(site: Server) -> Iterator[Web]:
    client = Web(site.url)
    yield client
    client.close()


@pytest.fixture
def customer(site: Server) -> Iterator[Callable[..., tuple[Account, Web]]]:
    """A new account, and a client logged in to its cabinet."""
    clients: list[Web] = []

    def make(balance: str = "100.00") -> tuple[Account, Web]:
        account = site.create_account(balance=balance)
        client = Web(site.url)
        clients.append(client)
        answer = client.login(account.email, account.password)
        assert answer.status_code == 303, answer.text
        return account, client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def operator(site: Server) -> Iterator[Web]:
    client = Web(site.url)
    assert client.login(OPERATOR_EMAIL, OPERATOR_PASSWORD, "console").status_code == 303
    yield client
    client.close()
