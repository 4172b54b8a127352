"""`/` in a browser leads to the cabinet's login (issue 12, "What a new user stumbles on");
API clients, at /api.php and at `/` with credentials, are answered as before."""

from __future__ import annotations

import httpx

from .support import DEMO_KEY, Api


def test_a_browser_opening_the_address_reaches_the_cabinet_login(
    api: Api, http: httpx.Client
) -> None:
    answer = http.get(api.url + "/")
    assert answer.status_code == 302
    assert answer.headers["location"] == "/cabinet/"
    with httpx.Client(base_url=api.url, follow_redirects=True, timeout=30) as browser:
        page = browser.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.url.path == "/cabinet/login"
    assert 'type="password"' in page.text
    # A stray query (a bookmark, a tracking parameter) does not change that.
    assert http.get(api.url + "/?utm_source=mail").status_code == 302


def test_api_clients_are_unaffected(api: Api, demo: Api, http: httpx.Client) -> None:
    assert demo.text(balance="rur") == demo.text(balance="rur")  # /api.php as always
    assert api.call({}).text == "ERROR=100: APIKEY IS REQUIRED"
    # `/` with credentials is still API-1 (some clients were configured with the bare URL).
    answer = http.get(api.url + "/", params={"apikey": DEMO_KEY, "balance": "rur"})
    assert answer.status_code == 200
    assert answer.text == demo.text(balance="rur")
    answer = http.post(api.url + "/", data={"apikey": DEMO_KEY, "balance": "rur"})
    assert (answer.status_code, answer.text) == (200, demo.text(balance="rur"))
