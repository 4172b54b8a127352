"""What is not an API call (contract §1): 404, 405, 413; and `pilotgate serve` set up from
scratch by an operator (accounts created with the CLI before the server starts)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .support import DEMO_KEY, TELE2, Account, Api, Server, error_json, running

MAX_BODY = 2048


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Account]]:
    """`pilotgate serve` with a 2 KB body limit and one account made beforehand."""
    server = Server(
        tmp_path_factory.mktemp("serve"), "serve", {"PILOTGATE_MAX_BODY_BYTES": str(MAX_BODY)}
    )
    account = server.create_account(balance="50.00")
    with running(server):
        yield server, account


def test_unknown_path_is_404(api: Api, http: httpx.Client) -> None:
    for path in ("/nope", "/api.php/extra", "/api1.php", "/API.PHP", "/api.php.bak"):
        assert http.get(api.url + path).status_code == 404, path


def test_other_methods_are_405(api: Api, http: httpx.Client) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        answer = http.request(method, api.endpoint, params={"balance": "rur"})
        assert answer.status_code == 405, method


def test_every_api_answer_allows_any_origin(demo: Api, api: Api) -> None:
    # Api.call asserts the header on every answer; here the kinds of answer one by one
    for params in (
        {},
        {"balance": "rur"},
        {"check": "all"},
        {"check": "x"},
        {"send": "", "to": TELE2},
        {"inbound": "all"},
        {"list": "senders"},
    ):
        demo.call(params)
    api.call({"apikey": "bad"})
    api.call("")


def test_serve_from_scratch(small: tuple[Server, Account], http: httpx.Client) -> None:
    server, account = small
    assert server.banner == [f"PilotGate listening on {server.url}"]
    client = Api(http, server.url, account.key)
    assert client.json()["balance"] == "50.00"
    (item,) = client.json(send="From serve", to=TELE2)["send"]
    assert client.wait_status(item["server_id"])["status"] == "2"
    # the demo account exists only where `pilotgate demo` made it
    assert Api(http, server.url).json(apikey=DEMO_KEY) == error_json(102)


def test_a_body_over_the_limit_is_413(small: tuple[Server, Account], http: httpx.Client) -> None:
    server, account = small
    endpoint = server.url + "/api.php"
    body = {"apikey": account.key, "send": "x" * (MAX_BODY + 1), "to": TELE2}
    assert http.post(endpoint, data=body).status_code == 413
    body["send"] = "x" * 100  # well under the limit: an ordinary answer
    answer = http.post(endpoint, data={**body, "cost": "1", "format": "json"})
    assert answer.status_code == 200
    assert answer.json() == {"cost": "3.95"}
    # the query string does not count towards the body limit
    answer = http.get(
        endpoint,
        params={
            "apikey": account.key,
            "send": "y" * 1530,
            "to": TELE2,
            "format": "json",
            "cost": "1",
            "pad": "z" * 1000,
        },
    )
    assert answer.status_code == 200
    assert answer.json() == {"cost": "39.50"}  # 10 parts of 153
