"""The cabinet's API section shows the OpenAPI description (issue 18, item 6): a page that
lists every operation, parameter and error code of `/openapi.json`, escaped, with no script
or asset from elsewhere."""

from __future__ import annotations

import html
import re

import httpx


def test_the_reference_page_shows_what_openapi_json_describes(site, customer):
    _, client = customer()
    api = client.get("/cabinet/api").text
    assert 'href="/cabinet/api/reference"' in api and 'href="/openapi.json"' in api
    page = client.get("/cabinet/api/reference")
    assert page.status_code == 200
    described = httpx.get(site.url + "/openapi.json").json()
    assert described["openapi"] == "3.1.0"
    text = html.unescape(page.text)
    for path, methods in described["paths"].items():
        for method, operation in methods.items():
            assert f"{method.upper()} {path}" in text
            for parameter in operation.get("parameters", []):
                assert f"<code>{parameter['name']}</code>" in text
    error = described["components"]["schemas"]["Error"]["properties"]["error"]
    rows = re.findall(r'<td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', page.text)
    assert [code for code, _, _ in rows] == error["properties"]["code"]["enum"]
    # The strings of the catalogue as clients compare them, escaped once in the page.
    assert ("240", "Invalid SMS list", "Неправильный список SMS") in rows
    # Nothing is loaded or linked from elsewhere (no CDN).
    targets = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert targets and all(target.startswith(("/", "?")) for target in targets), targets


def test_the_reference_is_for_logged_in_customers(web):
    answer = web.get("/cabinet/api/reference")
    assert answer.status_code in (302, 303)
    assert answer.headers["location"].startswith("/cabinet/login")
