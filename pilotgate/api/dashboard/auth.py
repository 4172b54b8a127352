"""Logging in and out, and changing the password, for customers and operators alike.

Lockout: after `lockout_attempts` failures for one e-mail from one address within
`lockout_window`, further attempts from there are refused (even with the right password)
until the window has passed; a success clears the count. The check counts rows in the
database, so it holds for every process of the gateway.
"""

from __future__ import annotations

import asyncio

import argon2

from pilotgate.domain.accounts import AccountState

from .pages import Ctx
from .sessions import fingerprint
from .web import Response, redirect

_hasher = argon2.PasswordHasher()


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


async def _check(stored: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password)


def _area(kind: str) -> tuple[str, str]:
    return ("/cabinet", "login.html") if kind == "c" else ("/console", "login.html")


async def _login_form(ctx: Ctx, kind: str, error: str = "", status: int = 200) -> Response:
    base, template = _area(kind)
    return ctx.render(
        template, status, base=base, error=error, kind=kind, email=ctx.req.form.get("email", "")
    )


async def _login(ctx: Ctx, kind: str) -> Response:
    email = ctx.req.form.get("email", "").strip().lower()[:320]
    password = ctx.req.form.get("password", "")[:1024]
    store = ctx.gateway.store
    who = f"{kind}:{email}|{ctx.req.client_ip}"
    since = ctx.now - ctx.settings.lockout_window
    if await store.login_failures(who, since) >= ctx.settings.lockout_attempts:
        return await _login_form(
            ctx, kind, ctx._("Too many failed attempts; try again later."), 429
        )
    if kind == "c":
        account = await store.account_by_email(email)
        user = (account.id, account.password_hash) if account else None
        blocked = account is not None and account.state is not AccountState.ACTIVE
    else:
        operator = await store.operator_by_email(email)
        user = (operator.id, operator.password_hash) if operator else None
        blocked = False
    if user is None or not await _check(user[1], password):
        await store.record_login_failure(who, ctx.now)
        return await _login_form(ctx, kind, ctx._("Wrong e-mail or password."), 401)
    if blocked:
        return await _login_form(ctx, kind, ctx._("This account is blocked."), 403)
    await store.clear_login_failures(who)
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


async def _logout(ctx: Ctx) -> Response:
    base = "/console" if ctx.session.kind == "o" else "/cabinet"
    ctx.switch(ctx.signer.new(ctx.now, lang=ctx.lang))
    return redirect(base + "/login")


async def _password(ctx: Ctx, kind: str) -> Response:
    base = "/cabinet" if kind == "c" else "/console"
    if ctx.req.method == "GET":
        return ctx.render("password.html", base=base, error="", done="done" in ctx.req.query)
    current, new = ctx.req.form.get("current", ""), ctx.req.form.get("new", "")
    stored = (
        ctx.account.password_hash
        if kind == "c" and ctx.account
        else (ctx.operator.password_hash if ctx.operator else "")
    )
    error = ""
    if not await _check(stored, current):
        error = ctx._("The current password is wrong.")
    elif not 8 <= len(new) <= 1024:
        error = ctx._("The new password must have at least 8 characters.")
    if error:
        return ctx.render("password.html", 400, base=base, error=error, done=False)
    hashed = await asyncio.to_thread(_hasher.hash, new)
    if kind == "c":
        await ctx.gateway.store.set_account_password(ctx.me.id, hashed)
    else:
        assert ctx.operator is not None
        await ctx.gateway.store.set_operator_password(ctx.operator.id, hashed)
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


async def customer_login_page(ctx: Ctx) -> Response:
    if ctx.account is not None:
        return redirect("/cabinet/")
    return await _login_form(ctx, "c")


async def customer_login(ctx: Ctx) -> Response:
    return await _login(ctx, "c")


async def operator_login_page(ctx: Ctx) -> Response:
    if ctx.operator is not None:
        return redirect("/console/")
    return await _login_form(ctx, "o")


async def operator_login(ctx: Ctx) -> Response:
    return await _login(ctx, "o")


async def customer_password(ctx: Ctx) -> Response:
    return await _password(ctx, "c")


async def operator_password(ctx: Ctx) -> Response:
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
