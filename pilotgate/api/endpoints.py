"""`/api.php` and `/api2.php` answered: API-1's call decoded, authenticated, paced and run
once; API-2's document handed to api2.py; the `debug=` copy of an authenticated call; and an
API call whose head was too large, answered with the API's error."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from pilotgate.domain import idempotency
from pilotgate.domain.accounts import Account
from pilotgate.errors import ApiError, TooFastError
from pilotgate.gateway import Gateway
from pilotgate.pipeline import metrics
from pilotgate.pipeline.debugmail import DebugMailer

from . import api1, api2, render, request, retries
from .asgi import Scope, Send, content_type_of, respond

log = logging.getLogger("pilotgate.api")

API_PATHS = ("/api.php", "/", "/api2.php")


def _cut_parameter_code(query: bytes) -> int:
    """The error for a request cut off by the head limit, by the parameter it was cut in:
    a recipient list too long (240), a text too long (221), else an unreadable request (11)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    last = pairs[-1][0].strip().lower() if pairs else ""
    return {"to": 240, "send": 221}.get(last, 11)


class ApiEndpoints:
    """The API's answers, for the ASGI application (app.py) that routes to them."""

    gateway: Gateway
    #: Sends `debug=` copies of API-1 calls; None when no SMTP relay is configured.
    debug_mail: DebugMailer | None

    async def head_too_large(self, scope: Scope, send: Send) -> None:
        """A request line and headers over the front's `max_head_bytes` (front/protocol.py):
        an API call gets the API's error in the format it asked for, as far as its query
        arrived (docs/decisions.md, "Request size"); anything else a 431."""
        path = scope["path"]
        if path not in API_PATHS:
            await respond(
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
        metrics.counter(metrics.API_REQUESTS, "undecoded", str(code)).inc()
        await respond(send, 200, answer.body, answer.content_type)

    async def api1(self, scope: Scope, body: bytes) -> render.HttpAnswer:
        content_type = content_type_of(scope)
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
            metrics.counter(metrics.API_REQUESTS, command, "ok").inc()
        except TooFastError as exc:
            metrics.counter(metrics.API_REQUESTS, command, str(exc.code)).inc()
            metrics.RATE_REFUSALS.inc()
            answer = render.too_fast(exc.retry_after, fmt, lang, charset)
        except ApiError as exc:
            metrics.counter(metrics.API_REQUESTS, command, str(exc.code)).inc()
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
                content_type_of(scope),
                client[0],
                key=retries.header_key(scope),
            )
        except Exception:  # as in api1: a bug is error 110, never a 500
            log.exception("unexpected error in /api2.php")
            return render.error(110, "json", "en", "utf-8")
        metrics.counter(metrics.API_REQUESTS, "api2", outcome.result).inc()
        if outcome.account is not None and outcome.debug is not None:
            self._debug(scope, outcome.debug, outcome.values, outcome.account, outcome.answer)
        return outcome.answer
