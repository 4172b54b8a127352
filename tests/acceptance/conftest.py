"""The acceptance suite's servers and clients.

One `pilotgate demo --port 0` serves the whole session (tests that need a clean slate create
their own account through the CLI); `test_http.py` starts a `pilotgate serve` of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres import fresh_schema

from .support import DEMO_KEY, Account, Api, Server, running


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def gate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The demo gateway: the published demo account, the emulator answering after 0.2 s.
    The whole suite runs once on SQLite and once on PostgreSQL."""
    with contextlib.ExitStack() as stack:
        settings = {}
        if request.param == "postgres":
            settings["PILOTGATE_DATABASE_URL"] = stack.enter_context(fresh_schema())
        server = Server(tmp_path_factory.mktemp("gate"), "demo", settings=settings)
        yield stack.enter_context(running(server))


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def api(gate: Server, http: httpx.Client) -> Api:
    """A client that sends no credentials of its own."""
    return Api(http, gate.url)


@pytest.fixture(scope="session")
def demo(api: Api) -> Api:
    """A client using the published demo key."""
    return api.as_key(DEMO_KEY)


@pytest.fixture(scope="session")
def new_account(gate: Server) -> Callable[..., Account]:
    """Create an account through `pilotgate account create` (balance in rubles)."""
    return gate.create_account


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of the test's own, for tests that start gateways of their own: a file
    on SQLite, a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gate.db'}"
    else:
        with fresh_schema() as url:
            yield url
