"""Logging in and out, and changing the password, for customers and operators alike.

Every password is checked by the gateway's `Passwords` (gateway/passwords.py): one lockout
shared with the API's login+password (failures for one e-mail from one address, counted in
the database so every process sees them), an unknown e-mail costs a verification like a
wrong password, and verifications run in a bounded pool of their own.
"""

from __future__ import annotations

from pilotgate.domain import audit, passwords as password_rules
from pilotgate.domain.accounts import AccountState
from pilotgate.gateway import PasswordOutcome
from pilotgate.gateway.passwords import who
from pilotgate.operations import passwords as password_ops

from .pages import Ctx
from .sessions import fingerprint
from .web import WebResponse, redirect


def _area(kind: str) -> tuple[str, str]:
    return ("/cabinet", "login.html") if kind == "c" else ("/console", "login.html")


async def _login_form(ctx: Ctx, kind: str, error: str = "", status: int = 200) -> WebResponse:
    base, template = _area(kind)
    return ctx.render(
        template, status, base=base, error=error, kind=kind, email=ctx.req.form.get("email", "")
    )


async def _login(ctx: Ctx, kind: str) -> WebResponse:
    email = ctx.req.form.get("email", "").strip().lower()[:320]
    password = ctx.req.form.get("password", "")[:1024]
    if kind == "c":
        account = await ctx.gateway.customer_by_email(email)
        user = (account.id, account.password_hash) if account else None
        blocked = account is not None and account.state is not AccountState.ACTIVE
    else:
        operator = await ctx.gateway.operator_by_email(email)
        user = (operator.id, operator.password_hash) if operator else None
        blocked = False
    outcome = await ctx.gateway.passwords.check(
        who(kind, email, ctx.req.client_ip), user[1] if user else None, password
    )
    if outcome is not PasswordOutcome.RIGHT or user is None:
        return await _refusal(ctx, kind, outcome)
    if blocked:
        return await _login_form(ctx, kind, ctx._("This account is blocked."), 403)
    # A new nonce: a session planted before login (fixation) is worth nothing after it.
    ctx.switch(
        ctx.signer.new(
            ctx.now,
            kind=kind,
            user_id=user[0],
            fp=fingerprint(ctx.signer.secret, user[1]),
            lang=ctx.lang,
        )
    )
    return redirect(_area(kind)[0] + "/")


async def _refusal(ctx: Ctx, kind: str, outcome: PasswordOutcome) -> WebResponse:
    if outcome is PasswordOutcome.LOCKED:
        return await _login_form(
            ctx, kind, ctx._("Too many failed attempts; try again later."), 429
        )
    if outcome is PasswordOutcome.BUSY:
        return await _login_form(ctx, kind, ctx._("Too many logins at once; try again."), 429)
    return await _login_form(ctx, kind, ctx._("Wrong e-mail or password."), 401)


async def _logout(ctx: Ctx) -> WebResponse:
    base = "/console" if ctx.session.kind == "o" else "/cabinet"
    ctx.switch(ctx.signer.new(ctx.now, lang=ctx.lang))
    return redirect(base + "/login")


async def _password(ctx: Ctx, kind: str) -> WebResponse:
    base = "/cabinet" if kind == "c" else "/console"
    if ctx.req.method == "GET":
        return ctx.render("password.html", base=base, error="", done="done" in ctx.req.query)
    current, new = ctx.req.form.get("current", ""), ctx.req.form.get("new", "")
    if kind == "c" and ctx.account:
        email, stored = ctx.account.email, ctx.account.password_hash
    else:
        assert ctx.operator is not None
        email, stored = ctx.operator.email, ctx.operator.password_hash
    # The current password is checked like a login's (one lockout): a stolen session must
    # not become a way to guess the password itself.
    outcome = await ctx.gateway.passwords.check(
        who(kind, email, ctx.req.client_ip), stored, current
    )
    error = ""
    if outcome is PasswordOutcome.LOCKED:
        error = ctx._("Too many failed attempts; try again later.")
    elif outcome is PasswordOutcome.BUSY:
        error = ctx._("Too many logins at once; try again.")
    elif outcome is not PasswordOutcome.RIGHT:
        error = ctx._("The current password is wrong.")
    elif password_rules.problem(new):
        error = ctx._("The new password must have 8 to 1024 characters.")
    if error:
        status = 400 if outcome in (PasswordOutcome.RIGHT, PasswordOutcome.WRONG) else 429
        return ctx.render("password.html", status, base=base, error=error, done=False)
    if kind == "c":
        actor = audit.customer(email)
        hashed = await password_ops.change_customer(ctx.gateway, actor, ctx.me.id, new)
    else:
        assert ctx.operator is not None
        actor = audit.operator(email)
        hashed = await password_ops.change_operator(ctx.gateway, actor, ctx.operator.id, new)
    # Every other session carries the old fingerprint and ends; this one goes on.
    ctx.switch(
        ctx.signer.new(
            ctx.now,
            kind=kind,
            user_id=ctx.session.user_id,
            fp=fingerprint(ctx.signer.secret, hashed),
            lang=ctx.lang,
        )
    )
    return redirect(base + "/password?done=1")


async def customer_login_page(ctx: Ctx) -> WebResponse:
    if ctx.account is not None:
        return redirect("/cabinet/")
    return await _login_form(ctx, "c")


async def customer_login(ctx: Ctx) -> WebResponse:
    return await _login(ctx, "c")


async def operator_login_page(ctx: Ctx) -> WebResponse:
    if ctx.operator is not None:
        return redirect("/console/")
    return await _login_form(ctx, "o")


async def operator_login(ctx: Ctx) -> WebResponse:
    return await _login(ctx, "o")


async def customer_password(ctx: Ctx) -> WebResponse:
    return await _password(ctx, "c")


async def operator_password(ctx: Ctx) -> WebResponse:
    return await _password(ctx, "o")


PUBLIC = [
    ("GET", "/cabinet/login", customer_login_page),
    ("POST", "/cabinet/login", customer_login),
    ("GET", "/console/login", operator_login_page),
    ("POST", "/console/login", operator_login),
    # Logging out needs only the CSRF token: it ends whatever session the cookie holds.
    ("POST", "/cabinet/logout", _logout),
    ("POST", "/console/logout", _logout),
]
CUSTOMER = [
    ("GET", "/cabinet/password", customer_password),
    ("POST", "/cabinet/password", customer_password),
]
OPERATOR = [
    ("GET", "/console/password", operator_password),
    ("POST", "/console/password", operator_password),
]
