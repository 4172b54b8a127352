"""`/metrics` in the Prometheus text format (pipeline issue, observability)."""

from __future__ import annotations

import re

import httpx

from .support import TELE2, Api


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
