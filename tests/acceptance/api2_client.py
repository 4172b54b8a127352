"""A client of `/api2.php` as published integrations write it: one document per POST, the
answer parsed as JSON (or XML). Expectations come from contract §12, not from the code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from .support import CATALOGUE, XML_DECL

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
#: contract §16 codes API-1's tests do not need.
EXTRA: dict[int, tuple[str, str]] = {
    10: ("INPUT data is required", "Нет входных данных"),
    12: ("XML structure is invalid", "Ошибка XML"),
    13: ("JSON structure is invalid", "Ошибка JSON"),
    14: ("Unknown COMMAND", "Неизвестная команда"),
}


def error(code: int) -> dict[str, Any]:
    """The API-2 error document: code a string (contract §12)."""
    en, ru = EXTRA.get(code) or CATALOGUE[code]
    return {"error": {"code": str(code), "description": en, "description_ru": ru}}


def error_xml(code: int) -> str:
    """The error of an XML request: API-1's XML error document."""
    en, ru = EXTRA.get(code) or CATALOGUE[code]
    return (
        f"{XML_DECL}<error><code>{code}</code><description>{en}</description>"
        f"<description_ru>{ru}</description_ru></error>"
    )


class Api2:
    def __init__(self, client: httpx.Client, url: str, apikey: str | None) -> None:
        self.client = client
        self.endpoint = url + "/api2.php"
        self.apikey = apikey

    def as_key(self, apikey: str | None) -> Api2:
        return Api2(self.client, self.endpoint.removesuffix("/api2.php"), apikey)

    def post(
        self,
        content: bytes | str | None = None,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        """A raw request; it must be HTTP 200 with the CORS header (contract §1)."""
        response = self.client.request(
            method,
            self.endpoint,
            content=content,
            params=params,
            data=data,
            files=files,
            headers=headers,
        )
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers.get("access-control-allow-origin") == "*"
        return response

    def document(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """`doc` with this client's key added (unless it has credentials of its own)."""
        merged = dict(doc)
        if self.apikey and not {"apikey", "login", "password"} & set(merged):
            merged["apikey"] = self.apikey
        return merged

    def __call__(self, doc: Mapping[str, Any], **kwargs: Any) -> Any:
        """POST `doc` as JSON without a Content-Type, as most PHP clients do."""
        response = self.post(json.dumps(self.document(doc)), **kwargs)
        assert response.headers["content-type"] == JSON_TYPE, response.headers
        return response.json()

    def send(self, *items: Mapping[str, Any], **top: Any) -> Any:
        return self({"send": list(items), **top})
