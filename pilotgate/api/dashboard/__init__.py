"""The web dashboard: the customer cabinet (/cabinet) and the operator console (/console),
server-rendered with Jinja2 and a little htmx, on the same raw ASGI as the API.

Every POST carries a CSRF token (else 403); every page but the login pages needs a session of
the right kind (customer or operator) whose password fingerprint still matches; a customer's
pages only ever read rows of the customer's own account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from importlib import resources

from pilotgate.gateway import Gateway

from ..asgi import BodyIncompleteError, BodyTooLargeError, Receive, Scope, Send, read_body
from . import auth, cabinet, console, history, i18n
from .pages import Ctx, DashboardSettings, environment
from .sessions import COOKIE, Signer, WebSession, fingerprint
from .web import Router, WebRequest, WebResponse

log = logging.getLogger("pilotgate.dashboard")

PREFIXES = ("/cabinet", "/console", "/static/dashboard/")
_STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _router() -> Router:
    router = Router()
    router.extend("public", auth.PUBLIC)
    router.extend("customer", auth.CUSTOMER)
    router.extend("customer", cabinet.ROUTES)
    router.extend("customer", history.ROUTES)
    router.extend("operator", auth.OPERATOR)
    router.extend("operator", console.ROUTES)
    for method, path, handler in console.UPLOADS:
        router.add(method, path, handler, "operator", upload=True)
    return router


class DashboardApp:
    def __init__(
        self, gateway: Gateway, settings: DashboardSettings, clock: Callable[[], datetime]
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.clock = clock
        self.env = environment()
        self.router = _router()
        self._signer: Signer | None = None

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(PREFIXES)

    async def signer(self) -> Signer:
        if self._signer is None:
            secret = await self.gateway.session_secret()
            self._signer = Signer(secret, self.settings.session_lifetime)
        return self._signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = str(scope["path"]), str(scope["method"])
        if path.startswith("/static/dashboard/"):
            await self._static(path.removeprefix("/static/dashboard/")).send(send)
            return
        if path in ("/cabinet", "/console"):
            await WebResponse(status=308, headers=[("location", path + "/")]).send(send)
            return
        route, params, known = self.router.match(method, path)
        request = WebRequest(scope, params=params)
        if route is None:
            status = 405 if known else 404
            await WebResponse(
                b"Method Not Allowed" if known else b"Not Found",
                status=status,
                content_type="text/plain; charset=utf-8",
            ).send(send)
            return
        limit = self.settings.max_upload_bytes if route.upload else self.settings.max_form_bytes
        try:
            request.body = await read_body(receive, limit, scope)
        except BodyIncompleteError:
            return  # the client is gone; half a form is not submitted
        except BodyTooLargeError:
            await WebResponse(
                b"Request body too large", status=413, content_type="text/plain; charset=utf-8"
            ).send(send)
            return
        ctx = await self._context(request)
        response = await self._dispatch(ctx, route.access, route.handler)
        await ctx.finish(response).send(send)

    async def _context(self, request: WebRequest) -> Ctx:
        signer, now = await self.signer(), self.clock()
        session = signer.load(request.cookies.get(COOKIE, ""), now)
        fresh = session is None
        if session is None:
            session = signer.new(now)
        wanted = request.query.get("lang", "")
        lang = i18n.choose(wanted, session.lang, request.header("accept-language"))
        ctx = Ctx(request, session, signer, self.gateway, self.env, self.settings, now, lang)
        if fresh:
            ctx.switch(session)
        if wanted in i18n.LANGUAGES and wanted != session.lang:
            ctx.with_lang(wanted)
        await self._identify(ctx)
        return ctx

    async def _identify(self, ctx: Ctx) -> None:
        """Who the session names, if it still may: the user exists, the password is the one
        the session was opened with, and a customer's account is not blocked."""
        session = ctx.session
        if session.kind == "c":
            account = await self.gateway.customer(session.user_id)
            if (
                account is not None
                and session.fingerprint == fingerprint(ctx.signer.secret, account.password_hash)
                and account.state.value == "active"
            ):
                ctx.account = account
        elif session.kind == "o":
            operator = await self.gateway.operator(session.user_id)
            if operator is not None and session.fingerprint == fingerprint(
                ctx.signer.secret, operator.password_hash
            ):
                ctx.operator = operator

    async def _dispatch(self, ctx: Ctx, access: str, handler: object) -> WebResponse:
        if access == "customer" and ctx.account is None:
            return _to_login(ctx, "/cabinet/login")
        if access == "operator" and ctx.operator is None:
            return _to_login(ctx, "/console/login")
        if ctx.req.method == "POST":
            ctx.req.parse_body()
            token = ctx.req.form.get("csrf") or ctx.req.header("x-csrf-token")
            if not ctx.signer.csrf_ok(ctx.session, token):
                return ctx.render(
                    "error.html", 403, message=ctx._("The form has expired; please try again.")
                )
        try:
            assert callable(handler)
            response = await handler(ctx)
            assert isinstance(response, WebResponse)
            return response
        except Exception:  # one broken page must not take the server down: log it, say 500
            log.exception("dashboard page %s %s failed", ctx.req.method, ctx.req.path)
            return ctx.render("error.html", 500, message="Internal error")

    def _static(self, name: str) -> WebResponse:
        folder = resources.files("pilotgate.api.dashboard").joinpath("static")
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
            return WebResponse(b"Not Found", status=404, content_type="text/plain")
        entry = folder.joinpath(name)
        if not entry.is_file():
            return WebResponse(b"Not Found", status=404, content_type="text/plain")
        response = WebResponse(entry.read_bytes(), content_type=_STATIC_TYPES[suffix])
        return response


def _to_login(ctx: Ctx, where: str) -> WebResponse:
    if ctx.req.header("hx-request"):
        return WebResponse(status=401, headers=[("hx-redirect", where)])
    return WebResponse(status=303, headers=[("location", where)])


__all__ = ["DashboardApp", "DashboardSettings", "WebSession"]
