"""The OpenAPI description against the live server (issue 18, item 6): schemathesis reads
`/openapi.json` from a running `pilotgate demo`, makes requests from it for every operation,
and checks each answer: no server error, a status, content type, headers and (for JSON) a
body the description allows, and never error 110 (an unexpected exception inside).

Seeded and bounded: `PILOTGATE_SCHEMATHESIS_EXAMPLES` (default 60) requests an operation and
mode (positive, negative), well under a minute in all. Run it wider locally with e.g. `=500`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .support import Account, Server, running

EXAMPLES = int(os.environ.get("PILOTGATE_SCHEMATHESIS_EXAMPLES", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Account]]:
    with running(Server(tmp_path_factory.mktemp("openapi"), "demo")) as server:
        # Rich enough that sends are charged rather than refused for money.
        yield server, server.create_account(balance="1000000.00")


def _with_key(case: Any, key: str) -> None:
    """Requests carry the account's key, so the commands behind authentication run (the
    other tests try the credentials' errors); an API-1 request that names no format asks
    for JSON, whose answers are checked field by field."""
    if case.operation.path == "/api.php":
        if case.operation.method.upper() == "GET":
            case.query = {"format": "json", **(case.query or {}), "apikey": key}
        elif isinstance(case.body, dict):
            case.body.setdefault("format", "json")
            case.body["apikey"] = key
    elif isinstance(case.body, dict) and "json" not in case.body:
        case.body["apikey"] = key


def _code(response: schemathesis.Response) -> str | None:
    """The error code of an answer in JSON or text (`ERROR=NNN: …`), None when no error."""
    if response.text.startswith("ERROR="):
        return response.text.removeprefix("ERROR=").partition(":")[0]
    if not response.headers.get("content-type", [""])[0].startswith("application/json"):
        return None
    body = json.loads(response.text)
    error = body.get("error") if isinstance(body, dict) else None
    return str(error["code"]) if isinstance(error, dict) else None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_live_server_keeps_its_description(
    live: tuple[Server, Account], mode: GenerationMode
) -> None:
    """Positive requests follow the description; negative ones break it (a wrong type, a
    missing field, an array for an object): either way the answer is one it describes."""
    server, account = live
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation is usable as described
        operations.append(result.ok())
    assert {(op.method.upper(), op.path) for op in operations} == {
        ("GET", "/api.php"),
        ("POST", "/api.php"),
        ("GET", "/api2.php"),
        ("POST", "/api2.php"),
    }
    seen: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {}
    with requests.Session() as session:
        for operation in operations:

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,  # the same requests on every run: failures reproduce
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode))
            def exercise(case: Any) -> None:
                _with_key(case, account.key)
                response = case.call_and_validate(
                    base_url=server.url, session=session, checks=CHECKS
                )
                code = _code(response)
                assert code != "110", (case.as_curl_command(), response.text)
                kind = response.headers.get("content-type", [""])[0].partition(";")[0]
                seen.setdefault(case.operation.label, set()).add(code or "ok")
                kinds.setdefault(case.operation.label, set()).add(kind)

            exercise()
    # The requests reached past authentication into the commands and their own errors.
    assert all(len(codes) >= 2 for codes in seen.values()), seen
    # JSON answers (whose bodies are checked against their schemas) came from each.
    assert all("application/json" in found for found in kinds.values()), kinds
