"""`/metrics` in the Prometheus text format (pipeline issue, observability). The demo serves
it openly on its port; `serve` only with a token or on a listener of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from .support import TELE2, Api, Server, running


def _value(text: str, metric: str) -> float:
    match = re.search(rf"^{re.escape(metric)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{metric} not in\n{text}"
    return float(match.group(1))


def test_metrics_count_requests_and_show_the_queue(demo: Api, http: httpx.Client) -> None:
    before = http.get(demo.url + "/metrics").text
    sent = 'pilotgate_api_requests_total{command="send",result="ok"}'
    refused = 'pilotgate_api_requests_total{command="send",result="215"}'
    base_ok = _value(before, sent) if sent in before else 0.0
    base_bad = _value(before, refused) if refused in before else 0.0
    demo.json(send="metrics", to=TELE2)
    demo.json(send="metrics", to="12345")
    answer = http.get(demo.url + "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert _value(text, sent) == base_ok + 1
    assert _value(text, refused) == base_bad + 1
    for gauge in (
        'pilotgate_queue_messages{status="0"}',
        'pilotgate_queue_messages{status="1"}',
        "pilotgate_queue_oldest_due_seconds",
        'pilotgate_callback_backlog{due="all"}',
    ):
        assert _value(text, gauge) >= 0
    assert 'pilotgate_messages_accepted_total{channel="sms",status="0"}' in text
    # Nothing secret is exposed.
    assert "apikey" not in text and "XXXXXXXX" not in text


# Who may read /metrics (issue 12: it was open to anyone on the API port) ---------------------
TOKEN = "s3cret-scrape-token"


@pytest.fixture(scope="module")
def tokened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = {"PILOTGATE_METRICS_TOKEN": TOKEN}
    with running(Server(tmp_path_factory.mktemp("tokened"), "serve", settings)) as server:
        yield server


@pytest.fixture(scope="module")
def separate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = {"PILOTGATE_METRICS_LISTEN": "127.0.0.1:0"}
    with running(Server(tmp_path_factory.mktemp("separate"), "serve", settings)) as server:
        yield server


def test_serve_keeps_metrics_off_the_api_port_without_a_token(
    separate: Server, http: httpx.Client
) -> None:
    answer = http.get(separate.url + "/metrics")
    assert answer.status_code == 404
    assert "pilotgate_" not in answer.text


def test_metrics_on_their_own_listener(separate: Server, http: httpx.Client) -> None:
    banner = separate.printed(lambda lines: any(x.startswith("Metrics on ") for x in lines))
    (line,) = [line for line in banner if line.startswith("Metrics on ")]
    url = line.removeprefix("Metrics on ")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics", url) and separate.url not in url
    answer = http.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "pilotgate_queue_oldest_due_seconds" in answer.text
    # That listener serves nothing else: not the API, not the dashboard.
    for path in ("/api.php?balance=rur", "/cabinet/", "/"):
        assert http.get(url.removesuffix("/metrics") + path).status_code == 404, path


def test_metrics_behind_a_bearer_token(tokened: Server, http: httpx.Client) -> None:
    endpoint = tokened.url + "/metrics"
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}):
        answer = http.get(endpoint, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "pilotgate_" not in answer.text
    answer = http.get(endpoint, headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert "pilotgate_queue_oldest_due_seconds" in answer.text
