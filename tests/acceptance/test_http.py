"""What is not an API call (contract §1): 404, 405, 413; and `pilotgate serve` set up from
scratch by an operator (accounts created with the CLI before the server starts)."""

from __future__ import annotations

import socket
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


def test_pipelined_requests_are_answered_whole_and_in_order(demo: Api) -> None:
    """Several requests written at once on one connection, a HEAD among them: each answer
    arrives whole (head and body, which the front writes together) and in order; the HEAD's
    without a body, and the connection closes after the one that asked for it."""
    host, port = demo.url.removeprefix("http://").split(":")
    query = f"/api.php?balance=rur&apikey={DEMO_KEY}&format=json"
    asked = (
        f"GET {query} HTTP/1.1\r\nHost: x\r\n\r\n"
        f"HEAD {query} HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
        f"GET {query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(asked.encode())
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    answers = received.split(b"HTTP/1.1 ")[1:]
    statuses = [a.split(b"\r\n", 1)[0] for a in answers]
    assert statuses == [b"200 OK", b"200 OK", b"404 Not Found", b"200 OK"]
    balance = demo.json()["balance"]
    body = f'{{"balance":"{balance}"}}'.encode()
    assert answers[0].endswith(b"\r\n\r\n" + body)
    assert answers[1].endswith(b"\r\n\r\n")  # HEAD: the head alone
    assert answers[2].endswith(b"\r\n\r\nNot Found")
    assert answers[3].endswith(b"\r\n\r\n" + body) and b"connection: close" in answers[3]


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
