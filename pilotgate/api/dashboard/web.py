"""The little HTTP the dashboard needs on raw ASGI (as the API): requests with parsed query,
form and cookies, responses, a route table with `{id}`-style parameters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote

from ..asgi import Scope, Send


@dataclass
class Upload:
    filename: str
    content: bytes


@dataclass
class WebRequest:
    scope: Scope
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  #: the route's {placeholders}
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def secure(self) -> bool:
        return self.scope.get("scheme") == "https"

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client") or ("", 0)
        return str(client[0])

    def header(self, name: str) -> str:
        wanted = name.lower().encode("latin-1")
        for key, value in self.scope.get("headers", []):
            if key == wanted:
                return str(value.decode("latin-1"))
        return ""

    @property
    def query(self) -> dict[str, str]:
        raw = self.scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")
        # NULs go, as from forms: PostgreSQL refuses them even in a search (history?q=%00).
        return {k: v.replace("\x00", "") for k, v in pairs}

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.header("cookie"))
        except CookieError:  # a malformed Cookie header is no cookies, never an error page
            return {}
        return {key: morsel.value for key, morsel in jar.items()}

    def parse_body(self) -> None:
        """Fill `form` (and `files`) from a urlencoded or multipart body."""
        kind = self.header("content-type")
        if kind.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + kind.encode("latin-1") + b"\r\n\r\n" + self.body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if not isinstance(name, str) or not isinstance(payload, bytes):
                    continue
                filename = part.get_filename()
                if filename is not None:
                    self.files[name] = Upload(filename, payload)
                else:
                    self.form[name] = payload.decode("utf-8", errors="replace")
            return
        self.form = dict(
            parse_qsl(
                self.body.decode("latin-1"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="replace",
            )
        )
        # Remove NULs as the API does: they mean nothing and PostgreSQL cannot store them.
        self.form = {k: v.replace("\x00", "") for k, v in self.form.items()}


@dataclass
class WebResponse:
    body: bytes | AsyncIterator[bytes] = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def set_cookie(self, name: str, value: str, *, secure: bool, max_age: int | None) -> None:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if secure:
            parts.append("Secure")
        self.headers.append(("set-cookie", "; ".join(parts)))

    async def send(self, send: Send) -> None:
        headers = [
            (b"content-type", self.content_type.encode("latin-1")),
            # Pages are never framed, never sniffed, never cached by shared caches.
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cache-control", b"no-store"),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers),
        ]
        if isinstance(self.body, bytes):
            headers.append((b"content-length", str(len(self.body)).encode()))
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": self.body})
            return
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        async for chunk in self.body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def number(raw: str, digits: int = 18) -> int | None:
    """A whole number written with 1..`digits` ASCII digits, else None. str.isdigit() alone
    is not enough: '²' passes it and int() then raises, '٣' passes both."""
    if 0 < len(raw) <= digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def whole(raw: str, digits: int = 18) -> int:
    """`number`, for forms that show a ValueError as their error."""
    value = number(raw, digits)
    if value is None:
        raise ValueError(f"not a number: {raw!r}")
    return value


def redirect(location: str, status: int = 303) -> WebResponse:
    return WebResponse(status=status, headers=[("location", quote(location, safe="/?=&%:"))])


def text(body: str, status: int) -> WebResponse:
    return WebResponse(body.encode(), status=status, content_type="text/plain; charset=utf-8")


#: A page handler; it gets the dashboard's per-request context (pages.Ctx).
Handler = Callable[[Any], Awaitable[WebResponse]]


@dataclass(frozen=True)
class WebRoute:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    #: Who may call it: "public", "customer" or "operator".
    access: str
    #: Takes a file upload: the larger body limit applies.
    upload: bool = False


class Router:
    def __init__(self) -> None:
        self.routes: list[WebRoute] = []

    def add(
        self, method: str, path: str, handler: Handler, access: str, *, upload: bool = False
    ) -> None:
        # {id} is a number; {name} a connector name (letters, digits, - _ .).
        regex = re.sub(r"\{id\}", r"(?P<id>[0-9]{1,18})", path)
        regex = re.sub(r"\{name\}", r"(?P<name>[A-Za-z0-9_.-]{1,64})", regex)
        self.routes.append(WebRoute(method, re.compile(f"^{regex}$"), handler, access, upload))

    def extend(self, access: str, routes: Iterable[tuple[str, str, Handler]]) -> None:
        for method, path, handler in routes:
            self.add(method, path, handler, access)

    def match(self, method: str, path: str) -> tuple[WebRoute | None, dict[str, str], bool]:
        """(route, its parameters, whether the path exists for another method)."""
        known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict(), True
            known = True
        return None, {}, known
