"""Where callbacks may point, decided at send time (contract §8, docs/decisions.md): the demo
gateway runs with the default policy, which refuses internal addresses."""

from __future__ import annotations

import pytest

from .support import TELE2, Api


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://10.0.0.7/cb",
        "http://192.168.1.1/cb",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/cb",
        "http://[fd00:ec2::254]/cb",
        "http://0.0.0.0/cb",
        "ftp://example.com/cb",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http:///no-host",
        "not a url",
    ],
)
def test_forbidden_or_malformed_callbacks_are_refused_and_nothing_is_stored(
    demo: Api, url: str
) -> None:
    before = demo.balance()
    newest = demo.newest_id()
    answer = demo.json(send="cb", to=TELE2, callback=url)
    assert answer["error"]["code"] == "260", answer
    assert demo.balance() == before
    assert demo.newest_id() == newest


def test_a_public_callback_host_that_does_not_resolve_now_is_accepted(demo: Api) -> None:
    # DNS may be down for a while: the address is checked again before every attempt.
    (item,) = demo.json(send="cb", to=TELE2, callback="https://status.example.invalid/cb")["send"]
    assert item["status"] == "0"
