"""The HTTP front: a small ASGI application.

Every API outcome, errors included, is HTTP 200 (contract §1); only what is not an API call at
all gets another status (404, 405, 413, 503 while stopping). An unexpected exception is logged
and answered as error 110, never as a 500 page. The API's own answers are in endpoints.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from pilotgate.errors import StorageError
from pilotgate.gateway import Gateway
from pilotgate.pipeline.debugmail import DebugMailer

from . import health as probes, openapi, scrape
from .asgi import (
    BodyIncompleteError,
    BodyTooLargeError,
    Receive,
    Scope,
    Send,
    content_type_of,
    read_body,
    respond,
)
from .endpoints import API_PATHS, ApiEndpoints

if TYPE_CHECKING:
    from .dashboard import DashboardApp

log = logging.getLogger("pilotgate.api")

#: A status callback is a few hundred bytes.
RELAY_BODY_BYTES = 64 * 1024
#: Where `/` sends a browser (docs/decisions.md, "The root").
HOME = "/cabinet/"


def _is_browser_visit(scope: Scope) -> bool:
    """A GET of `/` that names no credentials: a person opening the gateway's address (an
    API call there without `apikey` or `login` could only be answered 100)."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    names = {
        key.strip().lower()
        for key, _ in parse_qsl(
            scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
    }
    return not names & {"apikey", "login"}


class App(ApiEndpoints):
    """ASGI entry point: routes `/api.php` and `/api2.php`, and the dashboard's `/cabinet`,
    `/console` and `/static/dashboard/` when one is given."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        max_body_bytes: int,
        debug_mail: DebugMailer | None = None,
        dashboard: DashboardApp | None = None,
        metrics_token: str = "",
        metrics_public: bool = False,
        health: probes.Health | None = None,
    ) -> None:
        self.gateway = gateway
        #: `/healthz` and `/readyz` (api/health.py); not served when None.
        self.health = health
        self.max_body_bytes = max_body_bytes
        #: Who may read /metrics on this port (api/scrape.py).
        self.metrics_token = metrics_token
        self.metrics_public = metrics_public
        self.stopping = False
        #: Sends `debug=` copies of API-1 calls; None when no SMTP relay is configured.
        self.debug_mail = debug_mail
        self.dashboard = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if await self._aside(scope, receive, send):
            return
        if self.dashboard is not None and self.dashboard.handles(path):
            if self.stopping:
                await respond(send, 503, b"Shutting down", "text/plain; charset=utf-8")
                return
            await self.dashboard(scope, receive, send)
            return
        if path not in API_PATHS:
            await respond(send, 404, b"Not Found", "text/plain; charset=utf-8")
            return
        if scope["method"] not in ("GET", "POST", "HEAD"):
            await respond(send, 405, b"Method Not Allowed", "text/plain; charset=utf-8")
            return
        if self.stopping:
            await respond(send, 503, b"Shutting down", "text/plain; charset=utf-8")
            return
        try:
            body = await read_body(receive, self.max_body_bytes, scope)
        except BodyTooLargeError:
            await respond(send, 413, b"Request body too large", "text/plain; charset=utf-8")
            return
        except BodyIncompleteError:
            return  # nobody to answer, and half a request is not executed
        if path == "/api2.php":
            answer = await self.api2(scope, body)
        else:
            answer = await self.api1(scope, body)
        await respond(send, answer.status, answer.body, answer.content_type, answer.retry_after)

    async def _aside(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer what is neither the API nor the dashboard; False when it is one of them."""
        path = scope["path"]
        if "pilotgate.head_too_large" in scope.get("extensions", {}):
            await self.head_too_large(scope, send)
        elif path in probes.PATHS and self.health is not None:
            if scope["method"] in ("GET", "HEAD"):
                await self.health(scope, send)
            else:
                await respond(send, 405, b"Method Not Allowed", "text/plain; charset=utf-8")
        elif path == openapi.PATH and scope["method"] in ("GET", "HEAD"):
            await respond(send, 200, openapi.served(), "application/json")
        elif path == "/metrics" and scope["method"] == "GET":
            await scrape.serve(
                self.gateway, scope, send, token=self.metrics_token, public=self.metrics_public
            )
        elif path == "/" and self.dashboard is not None and _is_browser_visit(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": 302,
                    "headers": [(b"location", HOME.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
        elif path.startswith("/relay/"):
            await self.relay(scope, receive, send)
        else:
            return False
        return True

    async def relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/relay/NAME/TOKEN`: an upstream's status callback for our relay connector NAME
        (gateway/relaying.py), GET or POST form like every API-1 callback. 200 "OK" when
        taken (also for statuses that change nothing), 403 for a wrong name or token."""
        name, _, token = scope["path"].removeprefix("/relay/").partition("/")
        if scope["method"] not in ("GET", "POST") or not name or not token or "/" in token:
            await respond(send, 404, b"Not Found", "text/plain; charset=utf-8")
            return
        try:
            body = await read_body(receive, RELAY_BODY_BYTES, scope)
        except BodyTooLargeError:
            await respond(send, 413, b"Request body too large", "text/plain; charset=utf-8")
            return
        except BodyIncompleteError:
            return
        fields = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if body and content_type_of(scope).startswith("application/x-www-form-urlencoded"):
            fields |= dict(parse_qsl(body.decode("utf-8", errors="replace")))
        try:
            taken = await self.gateway.relay_report(name, token, fields)
        except Exception:  # a bug is a failed callback (the upstream retries), never a 500
            log.exception("unexpected error in /relay/%s", name)
            await respond(send, 503, b"Try again", "text/plain; charset=utf-8")
            return
        if taken:
            await respond(send, 200, b"OK", "text/plain; charset=utf-8")
        else:
            await respond(send, 403, b"Forbidden", "text/plain; charset=utf-8")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    # The numbering plan is loaded before the first request, not by it: at
                    # full size that takes a while (docs/decisions.md "The numbering plan").
                    await self.gateway.numbering.fresh()
                except StorageError as exc:  # the first send tries again
                    log.warning("numbering plan not loaded at start: %s", exc)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stopping = True
                await send({"type": "lifespan.shutdown.complete"})
                return
