"""A browserless client of the dashboard: an httpx client with its own cookie jar that
reads CSRF tokens out of the pages it gets, as a browser's forms would send them."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
OPERATOR_EMAIL = "operator@example.com"
OPERATOR_PASSWORD = "operator-password"


class Web:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=30.0, follow_redirects=False)
        self.token = ""

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text) if response.status_code < 500 else None
        if found:
            self.token = found.group(1)
        return response

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST a form with the token of the last page seen (or `csrf`; '' sends none)."""
        form = dict(data or {})
        token = self.token if csrf is None else csrf
        if token:
            form["csrf"] = token
        return self.client.post(path, data=form, **kwargs)

    def login(self, email: str, password: str, area: str = "cabinet") -> httpx.Response:
        self.get(f"/{area}/login")
        answer = self.post(f"/{area}/login", {"email": email, "password": password})
        self.get(f"/{area}/")  # the token of the new session
        return answer


def found(pattern: str, page: str) -> re.Match[str]:
    """The first match of `pattern` in `page`; a page without one fails the test here."""
    match = re.search(pattern, page)
    assert match is not None, f"{pattern!r} is not in the page"
    return match
