"""The HTTP front: a small ASGI application.

Every API outcome, errors included, is HTTP 200 (contract §1); only what is not an API call at
all gets another status (404, 405, 413, 503 while stopping). An unexpected exception is logged
and answered as error 110, never as a 500 page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from pilotgate.domain import idempotency
from pilotgate.domain.accounts import Account
from pilotgate.errors import ApiError, StorageError, TooFastError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics
from pilotgate.pipeline.debugmail import DebugMailer

from . import api1, api2, health as probes, openapi, render, request, retries, scrape
from .asgi import BodyIncompleteError, BodyTooLargeError, Receive, Scope, Send, read_body

if TYPE_CHECKING:
    from .dashboard import DashboardApp

log = logging.getLogger("pilotgate.api")

#: A status callback is a few hundred bytes.
RELAY_BODY_BYTES = 64 * 1024
API_PATHS = ("/api.php", "/", "/api2.php")
#: Where `/` sends a browser (docs/decisions.md, "The root").
HOME = "/cabinet/"


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, retry_after: int | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


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


def _cut_parameter_code(query: bytes) -> int:
    """The error for a request cut off by the head limit, by the parameter it was cut in:
    a recipient list too long (240), a text too long (221), else an unreadable request (11)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    last = pairs[-1][0].strip().lower() if pairs else ""
    return {"to": 240, "send": 221}.get(last, 11)


class App:
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
                await _respond(send, 503, b"Shutting down", "text/plain; charset=utf-8")
                return
            await self.dashboard(scope, receive, send)
            return
        if path not in API_PATHS:
            await _respond(send, 404, b"Not Found", "text/plain; charset=utf-8")
            return
        if scope["method"] not in ("GET", "POST", "HEAD"):
            await _respond(send, 405, b"Method Not Allowed", "text/plain; charset=utf-8")
            return
        if self.stopping:
            await _respond(send, 503, b"Shutting down", "text/plain; charset=utf-8")
            return
        try:
            body = await read_body(receive, self.max_body_bytes, scope)
        except BodyTooLargeError:
            await _respond(send, 413, b"Request body too large", "text/plain; charset=utf-8")
            return
        except BodyIncompleteError:
            return  # nobody to answer, and half a request is not executed
        if path == "/api2.php":
            answer = await self.api2(scope, body)
        else:
            answer = await self.api1(scope, body)
        await _respond(send, answer.status, answer.body, answer.content_type, answer.retry_after)

    async def _aside(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer what is neither the API nor the dashboard; False when it is one of them."""
        path = scope["path"]
        if "pilotgate.head_too_large" in scope.get("extensions", {}):
            await self.head_too_large(scope, send)
        elif path in probes.PATHS and self.health is not None:
            if scope["method"] in ("GET", "HEAD"):
                await self.health(scope, send)
            else:
                await _respond(send, 405, b"Method Not Allowed", "text/plain; charset=utf-8")
        elif path == openapi.PATH and scope["method"] in ("GET", "HEAD"):
            await _respond(send, 200, openapi.served(), "application/json")
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

    async def head_too_large(self, scope: Scope, send: Send) -> None:
        """A request line and headers over the front's `max_head_bytes` (front/protocol.py):
        an API call gets the API's error in the format it asked for, as far as its query
        arrived (docs/decisions.md, "Request size"); anything else a 431."""
        path = scope["path"]
        if path not in API_PATHS:
            await _respond(
                send, 431, b"Request header fields too large", "text/plain; charset=utf-8"
            )
            return
        query: bytes = scope.get("query_string", b"")
        cut = scope["extensions"]["pilotgate.head_too_large"]
        code = _cut_parameter_code(query) if cut.get("in_request_line") else 11
        if path == "/api2.php":
            answer = render.error(code, "json", "en", "utf-8")
        else:
            answer = render.error(code, *request.style(request.read(query, b"", "")))
        metrics.API_REQUESTS.labels("undecoded", str(code)).inc()
        await _respond(send, 200, answer.body, answer.content_type)

    async def api1(self, scope: Scope, body: bytes) -> render.HttpAnswer:
        content_type = _content_type(scope)
        query: bytes = scope.get("query_string", b"")
        fmt, lang, charset, command = "text", "en", "utf-8", "undecoded"
        params: request.Params | None = None
        account: Account | None = None
        try:
            # How to answer is settled before anything can fail to decode: from the query
            # alone first, then from query and body, so even an error 11 for the body's
            # bytes comes in the format the body asked for.
            # (Without a body the second read would be the first again: a GET is read once.)
            raw = request.read(query, b"", "")
            fmt, lang, charset = request.style(raw)
            if body:
                raw = request.read(query, body, content_type)
                fmt, lang, charset = request.style(raw)
            params = request.decode(raw)
            fmt, lang, charset = params.format, params.lang, params.charset
            client = scope.get("client") or ("", 0)
            command = api1.command_of(params)
            account = caller = await self.gateway.authenticate(api1.credentials(params), client[0])
            await self.gateway.pace(account)
            found, path = params, scope["path"]
            claim = retries.claim_of(
                retries.header_key(scope) or found.get(idempotency.PARAMETER),
                lambda: idempotency.fingerprint(path, found.values),
            )
            answer = await retries.once(
                self.gateway,
                caller,
                claim,
                lambda claim: api1.run(self.gateway, caller, found, claim, client[0]),
            )
            metrics.API_REQUESTS.labels(command, "ok").inc()
        except TooFastError as exc:
            metrics.API_REQUESTS.labels(command, str(exc.code)).inc()
            metrics.RATE_REFUSALS.inc()
            answer = render.too_fast(exc.retry_after, fmt, lang, charset)
        except ApiError as exc:
            metrics.API_REQUESTS.labels(command, str(exc.code)).inc()
            answer = render.error(exc.code, fmt, lang, charset)
        except Exception:  # the one place that turns a bug into error 110, never a 500
            log.exception("unexpected error in /api.php")
            answer = render.error(110, fmt, lang, charset)
        if account is not None and params is not None and params.has("debug"):
            self._debug(scope, params.get("debug"), params.values, account, answer, params.charset)
        return answer

    def _debug(
        self,
        scope: Scope,
        address: str | None,
        values: Mapping[str, str],
        account: Account,
        answer: render.HttpAnswer,
        charset: str = "utf-8",
    ) -> None:
        """Queue the `debug=` copy of an authenticated call (contract §14); never raises and
        never waits: the answer goes out as it is whatever happens to the mail. Calls that
        fail authentication get none, so nobody can make the gateway mail strangers."""
        if self.debug_mail is None:
            return
        try:
            self.debug_mail.submit(
                account_id=account.id,
                raw_address=address,
                method=str(scope.get("method", "GET")),
                path=str(scope.get("path", "/api.php")),
                params=values,
                answer=answer.body.decode(charset, errors="replace"),
                content_type=answer.content_type,
            )
        except Exception:  # a debug copy must never turn into the caller's error
            log.exception("debug mail of account %s not queued", account.id)

    async def api2(self, scope: Scope, body: bytes) -> render.HttpAnswer:
        client = scope.get("client") or ("", 0)
        try:
            outcome = await api2.handle(
                self.gateway,
                scope.get("query_string", b""),
                body,
                _content_type(scope),
                client[0],
                key=retries.header_key(scope),
            )
        except Exception:  # as in api1: a bug is error 110, never a 500
            log.exception("unexpected error in /api2.php")
            return render.error(110, "json", "en", "utf-8")
        metrics.API_REQUESTS.labels("api2", outcome.result).inc()
        if outcome.account is not None and outcome.debug is not None:
            self._debug(scope, outcome.debug, outcome.values, outcome.account, outcome.answer)
        return outcome.answer

    async def relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/relay/NAME/TOKEN`: an upstream's status callback for our relay connector NAME
        (gateway/relaying.py), GET or POST form like every API-1 callback. 200 "OK" when
        taken (also for statuses that change nothing), 403 for a wrong name or token."""
        name, _, token = scope["path"].removeprefix("/relay/").partition("/")
        if scope["method"] not in ("GET", "POST") or not name or not token or "/" in token:
            await _respond(send, 404, b"Not Found", "text/plain; charset=utf-8")
            return
        try:
            body = await read_body(receive, RELAY_BODY_BYTES, scope)
        except BodyTooLargeError:
            await _respond(send, 413, b"Request body too large", "text/plain; charset=utf-8")
            return
        except BodyIncompleteError:
            return
        fields = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if body and _content_type(scope).startswith("application/x-www-form-urlencoded"):
            fields |= dict(parse_qsl(body.decode("utf-8", errors="replace")))
        try:
            taken = await self.gateway.relay_report(name, token, fields)
        except Exception:  # a bug is a failed callback (the upstream retries), never a 500
            log.exception("unexpected error in /relay/%s", name)
            await _respond(send, 503, b"Try again", "text/plain; charset=utf-8")
            return
        if taken:
            await _respond(send, 200, b"OK", "text/plain; charset=utf-8")
        else:
            await _respond(send, 403, b"Forbidden", "text/plain; charset=utf-8")

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
