"""The operator console: accounts (create, top up, block, tariff) and sender approvals.
Tariffs, connectors, the queue and the stop list are in console_ops.py.

Each form calls its use case in pilotgate.operations (the CLI calls the same ones) as
"operator:<email>"; what a page adds is reading the form and showing InputError's message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pilotgate.domain.protections import show_countries
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, InputError, InsufficientFundsError, NotFoundError
from pilotgate.operations import accounts, protections, rates, senders, smpp, tariffs
from pilotgate.storage.base import AccountChanges

from . import console_held, console_ops
from .pages import Ctx
from .web import WebResponse, number, redirect


async def accounts_page(
    ctx: Ctx, *, error: str = "", new_key: str = "", status: int = 200
) -> WebResponse:
    return ctx.render(
        "console_accounts.html",
        status,
        items=await accounts.listing(ctx.gateway),
        tariffs=await tariffs.listing(ctx.gateway),
        error=error,
        new_key=new_key,
        form=ctx.req.form,
    )


async def index(ctx: Ctx) -> WebResponse:
    return await accounts_page(ctx)


async def create(ctx: Ctx) -> WebResponse:
    form = ctx.req.form
    tariff_id = number(form.get("tariff", "") or "1", 9)
    if tariff_id is None:
        return await accounts_page(ctx, error=f"tariff: {form.get('tariff')!r}", status=400)
    try:
        request = accounts.AccountRequest(
            email=form.get("email", ""),
            password=form.get("password", ""),
            tariff_id=tariff_id,
            name=form.get("name", ""),
            phone=form.get("phone", ""),
            balance=form.get("balance", "0"),
            default_sender=form.get("default_sender", ""),
        )
        created = await accounts.create(ctx.gateway, ctx.actor, request)
    except InputError as exc:
        return await accounts_page(ctx, error=str(exc), status=400)
    except ConflictError:
        return await accounts_page(ctx, error=f"{form.get('email', '')}: exists", status=409)
    account = created.account
    return await accounts_page(ctx, new_key=f"{account.id} {account.email} {created.apikey}")


async def account_page(ctx: Ctx, *, error: str = "", status: int = 200) -> WebResponse:
    found = await accounts.overview(ctx.gateway, int(ctx.req.params["id"]))
    if found is None:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    guard = await protections.show(ctx.gateway, found.account.id)
    paced = await rates.show(ctx.gateway, found.account.id)
    return ctx.render(
        "console_account.html",
        status,
        a=found.account,
        tariffs=found.tariffs,
        ledger=found.ledger,
        senders=found.senders,
        audit=found.audit,
        smpp=await smpp.credentials(ctx.gateway, found.account.id),
        guard=guard,
        paced=paced,
        countries=show_countries(guard.countries),
        error=error,
    )


async def _apply(ctx: Ctx, account_id: int, change: Callable[[], Awaitable[object]]) -> WebResponse:
    """Apply one change of the account page: a broken rule is shown on the page (400), an
    unknown account is 404, else back to the page, saved."""
    try:
        await change()
    except InputError as exc:
        return await account_page(ctx, error=str(exc), status=400)
    except InsufficientFundsError:
        return await account_page(ctx, error="112: No money", status=400)
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect(f"/console/accounts/{account_id}?saved=1")


async def topup(ctx: Ctx) -> WebResponse:
    account_id, form = int(ctx.req.params["id"]), ctx.req.form
    return await _apply(
        ctx,
        account_id,
        lambda: accounts.credit(
            ctx.gateway, ctx.actor, account_id, form.get("amount", ""), form.get("note", "")
        ),
    )


async def state(ctx: Ctx) -> WebResponse:
    account_id, raw = int(ctx.req.params["id"]), ctx.req.form.get("state", "")
    return await _apply(
        ctx,
        account_id,
        lambda: accounts.set_state(ctx.gateway, ctx.actor, account_id, accounts.state(raw)),
    )


async def tariff(ctx: Ctx) -> WebResponse:
    account_id, raw = int(ctx.req.params["id"]), ctx.req.form.get("tariff", "")
    chosen = number(raw, 9)
    if chosen is None:
        return await account_page(ctx, error=f"tariff {raw!r}", status=400)
    changes = AccountChanges(tariff_id=chosen)
    return await _apply(
        ctx, account_id, lambda: accounts.change(ctx.gateway, ctx.actor, account_id, changes)
    )


async def smpp_credentials(ctx: Ctx) -> WebResponse:
    """Set the SMPP system_id and/or password (an empty password keeps the current one; an
    empty system_id removes both)."""
    account_id, form = int(ctx.req.params["id"]), ctx.req.form
    return await _apply(
        ctx,
        account_id,
        lambda: smpp.set_credentials(
            ctx.gateway,
            ctx.actor,
            account_id,
            form.get("system_id", ""),
            form.get("password", "") or None,
        ),
    )


async def smpp_limits(ctx: Ctx) -> WebResponse:
    """The account's own SMPP binds and messages per second (empty: the default)."""
    account_id, form = int(ctx.req.params["id"]), ctx.req.form
    return await _apply(
        ctx,
        account_id,
        lambda: smpp.set_limits(
            ctx.gateway, ctx.actor, account_id, form.get("max_binds", ""), form.get("mps", "")
        ),
    )


async def protect(ctx: Ctx) -> WebResponse:
    """The account's countries, stop words and CyrLat filter (contract §17)."""
    account_id, form = int(ctx.req.params["id"]), ctx.req.form
    changes = protections.ProtectionChanges(
        countries=form.get("countries", ""),
        stop_words=form.get("stop_words", ""),
        cyrlat=bool(form.get("cyrlat")),
        day_cap=form.get("day_cap", ""),
        month_cap=form.get("month_cap", ""),
    )
    return await _apply(
        ctx, account_id, lambda: protections.change(ctx.gateway, ctx.actor, account_id, changes)
    )


async def pace(ctx: Ctx) -> WebResponse:
    """The account's API requests and messages per second (contract §17.6)."""
    account_id, form = int(ctx.req.params["id"]), ctx.req.form
    changes = rates.RateChanges(api_rps=form.get("api_rps", ""), mps=form.get("mps", ""))
    return await _apply(
        ctx, account_id, lambda: rates.change(ctx.gateway, ctx.actor, account_id, changes)
    )


async def senders_page(ctx: Ctx) -> WebResponse:
    wanted = ctx.req.query.get("state", "pending")
    chosen = SenderState(wanted) if wanted in {s.value for s in SenderState} else None
    items = await senders.listing(ctx.gateway, chosen)
    return ctx.render("console_senders.html", items=items, chosen=wanted)


async def approve(ctx: Ctx) -> WebResponse:
    try:
        await senders.approve(ctx.gateway, ctx.actor, int(ctx.req.params["id"]))
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect("/console/senders?saved=1")


async def reject(ctx: Ctx) -> WebResponse:
    reason = ctx.req.form.get("reason", "")
    try:
        await senders.reject(ctx.gateway, ctx.actor, int(ctx.req.params["id"]), reason)
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect("/console/senders?saved=1")


ROUTES = [
    ("GET", "/console/", index),
    ("POST", "/console/accounts", create),
    ("GET", "/console/accounts/{id}", account_page),
    ("POST", "/console/accounts/{id}/topup", topup),
    ("POST", "/console/accounts/{id}/state", state),
    ("POST", "/console/accounts/{id}/tariff", tariff),
    ("POST", "/console/accounts/{id}/smpp", smpp_credentials),
    ("POST", "/console/accounts/{id}/smpp-limits", smpp_limits),
    ("POST", "/console/accounts/{id}/protections", protect),
    ("POST", "/console/accounts/{id}/rates", pace),
    ("GET", "/console/senders", senders_page),
    ("POST", "/console/senders/{id}/approve", approve),
    ("POST", "/console/senders/{id}/reject", reject),
    *console_ops.ROUTES,
    *console_held.ROUTES,
]
UPLOADS = console_ops.UPLOADS
