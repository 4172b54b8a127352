"""The customer cabinet's simple pages: overview, API key, settings, sender names, inbound,
balance and ledger, referrals, API examples. Every read names the logged-in account."""

from __future__ import annotations

from urllib.parse import urlsplit

from pilotgate.domain import audit, codes, params
from pilotgate.domain.protections import show_countries
from pilotgate.errors import ApiError, InputError
from pilotgate.operations import (
    accounts as operations_accounts,
    protections as operations_protections,
    smpp as operations_smpp,
)
from pilotgate.storage.base import AccountChanges

from . import reference, sending, stats
from .pages import Ctx
from .web import WebResponse, number, redirect

PAGE = 50


async def overview(ctx: Ctx) -> WebResponse:
    recent = await ctx.gateway.recent(ctx.me, hours=None, limit=10, offset=0)
    senders = await ctx.gateway.senders(ctx.me)
    return ctx.render("overview.html", recent=recent, senders=senders)


async def key(ctx: Ctx) -> WebResponse:
    new_key = ""
    if ctx.req.method == "POST":
        actor = audit.customer(ctx.me.email)
        new_key = await operations_accounts.replace_key(ctx.gateway, actor, ctx.me.id)
    return ctx.render("key.html", new_key=new_key, base=_base(ctx))


def _base(ctx: Ctx) -> str:
    """This server's address as the browser reached it, for copy-and-paste examples."""
    host = ctx.req.header("host") or "127.0.0.1:8000"
    return f"{'https' if ctx.req.secure or ctx.settings.https else 'http'}://{host}"


def _error_text(ctx: Ctx, code: int) -> str:
    return f"{code}: " + (codes.russian(code) if ctx.lang == "ru" else codes.english(code))


def _url_error(ctx: Ctx, url: str) -> str:
    """Why a callback URL is not one, or '' (the API's rule: http(s)). Whether its host may
    be called is the use case's check (operations.accounts.change)."""
    if not url:
        return ""
    try:
        params.callback_url(url)
    except ApiError as exc:
        return _error_text(ctx, exc.code)
    return ""


async def settings(ctx: Ctx) -> WebResponse:
    me, error = ctx.me, ""
    actor = audit.customer(me.email)
    if ctx.req.method == "POST":
        form = ctx.req.form
        if form.get("rotate_secret"):
            await operations_accounts.rotate_secret(ctx.gateway, actor, me.id)
            return redirect("/cabinet/settings?saved=1")
        status_url = form.get("status_url", "").strip()
        inbound_url = form.get("inbound_url", "").strip()
        allow_ip = form.get("allow_ip", "").strip()
        method = form.get("status_method", "get")
        loop = form.get("loop_window", "").strip()
        error = _url_error(ctx, status_url) or _url_error(ctx, inbound_url)
        if not error and allow_ip and params.bad_networks(allow_ip):
            error = f"{ctx._('Allowed IPs (comma-separated; empty = any)')}: " + ", ".join(
                params.bad_networks(allow_ip)
            )
        if not error and method not in ("get", "post"):
            error = _error_text(ctx, 260)
        seconds = number(loop, 9)
        if not error and loop and (seconds is None or seconds > 30 * 86400):
            error = f"{ctx._('Loop window, seconds (empty = gateway default, 0 = off)')}: {loop}"
        default_sender = form.get("default_sender", "").strip()
        if (
            not error
            and default_sender
            and default_sender not in (await ctx.gateway.approved_senders(me))
        ):
            error = _error_text(ctx, 204)  # only an approved name can be the default
        if not error:
            changes = AccountChanges(
                status_url=status_url,
                status_method=method,
                inbound_url=inbound_url,
                allow_ip=allow_ip,
                default_sender=default_sender,
            )
            try:
                await operations_accounts.change(ctx.gateway, actor, me.id, changes)
            except InputError as exc:  # a callback host the gateway may not call
                error = exc.problem
        if not error:
            if seconds != me.loop_window:
                await operations_accounts.set_loop_window(ctx.gateway, actor, me.id, seconds)
            return redirect("/cabinet/settings?saved=1")
    account = await operations_accounts.find(ctx.gateway, me.id) or me
    names = await ctx.gateway.approved_senders(me)
    guard = await operations_protections.show(ctx.gateway, me.id)
    return ctx.render(
        "settings.html",
        400 if error else 200,
        me=account,
        error=error,
        names=names,
        countries=show_countries(guard.countries),
        guard=guard.protections,
        caps=guard.caps,
        form=ctx.req.form,
    )


async def senders(ctx: Ctx) -> WebResponse:
    error = ""
    if ctx.req.method == "POST":
        form = ctx.req.form
        try:
            await ctx.gateway.add_sender(
                ctx.me,
                form.get("name", "")[:64],
                form.get("description", "")[:1000],
                form.get("callback", "")[:500],
            )
        except ApiError as exc:
            error = _error_text(ctx, exc.code)
        else:
            return redirect("/cabinet/senders?saved=1")
    names = await ctx.gateway.senders(ctx.me)
    return ctx.render(
        "senders.html", 400 if error else 200, names=names, error=error, form=ctx.req.form
    )


async def inbound(ctx: Ctx) -> WebResponse:
    items = await ctx.gateway.inbox(ctx.me)
    return ctx.render("inbound.html", items=items[:500], more=len(items) > 500)


async def balance(ctx: Ctx) -> WebResponse:
    before_id = number(ctx.req.query.get("before", ""))
    rows = await ctx.gateway.ledger(ctx.me, before_id, PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    sms = await ctx.gateway.balance_sms(ctx.me)
    return ctx.render(
        "balance.html", rows=rows, sms=sms, next_before=rows[-1].id if more and rows else None
    )


async def referrals(ctx: Ctx) -> WebResponse:
    items = await ctx.gateway.referred(ctx.me)
    return ctx.render("referrals.html", items=items)


async def api_page(ctx: Ctx) -> WebResponse:
    smpp = await operations_smpp.credentials(ctx.gateway, ctx.me.id)
    # The host the browser reached us by: the SMPP listener is on the same machine.
    host = urlsplit(_base(ctx)).hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    port = ctx.settings.smpp_port
    return ctx.render(
        "api.html", base=_base(ctx), smpp=smpp, smpp_address=f"{host}:{port}" if port else ""
    )


async def api_reference(ctx: Ctx) -> WebResponse:
    return ctx.render("api_reference.html", **reference.view())


ROUTES = [
    ("GET", "/cabinet/", overview),
    ("GET", "/cabinet/key", key),
    ("POST", "/cabinet/key", key),
    ("GET", "/cabinet/settings", settings),
    ("POST", "/cabinet/settings", settings),
    ("GET", "/cabinet/senders", senders),
    ("POST", "/cabinet/senders", senders),
    ("GET", "/cabinet/send", sending.form),
    ("POST", "/cabinet/send", sending.submit),
    ("POST", "/cabinet/send/count", sending.count),
    ("GET", "/cabinet/inbound", inbound),
    ("GET", "/cabinet/balance", balance),
    ("GET", "/cabinet/stats", stats.page),
    ("GET", "/cabinet/referrals", referrals),
    ("GET", "/cabinet/api", api_page),
    ("GET", "/cabinet/api/reference", api_reference),
]
