"""The operator console: accounts (create, top up, block, tariff) and sender approvals.
Tariffs, connectors, the queue and the stop list are in console_ops.py."""

from __future__ import annotations

import secrets

from pilotgate.domain import accounts, money, passwords as password_rules, senders as sender_rules
from pilotgate.domain.accounts import AccountState
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, InsufficientFundsError, NotFoundError
from pilotgate.storage.base import AccountChanges, NewAccount

from . import console_ops
from .pages import Ctx
from .web import WebResponse, number, redirect, whole

_STATES = {s.value for s in AccountState}


async def accounts_page(
    ctx: Ctx, *, error: str = "", new_key: str = "", status: int = 200
) -> WebResponse:
    items = await ctx.gateway.store.accounts()
    tariffs = await ctx.gateway.store.tariffs()
    return ctx.render(
        "console_accounts.html",
        status,
        items=items,
        tariffs=tariffs,
        error=error,
        new_key=new_key,
        form=ctx.req.form,
    )


async def index(ctx: Ctx) -> WebResponse:
    return await accounts_page(ctx)


async def create(ctx: Ctx) -> WebResponse:
    form = ctx.req.form
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    try:
        opening = money.parse(form.get("balance", "0") or "0")
        tariff = whole(form.get("tariff", "1"), 9)
    except ValueError as exc:
        return await accounts_page(ctx, error=str(exc), status=400)
    if not sender_rules.is_email(email) or password_rules.problem(password):
        return await accounts_page(ctx, error="e-mail / password (8-1024)", status=400)
    if tariff not in {t.id for t in await ctx.gateway.store.tariffs()}:
        return await accounts_page(ctx, error=f"tariff {tariff}", status=400)
    key = accounts.new_api_key()
    try:
        created = await ctx.gateway.store.create_account(
            NewAccount(
                email=email,
                password_hash=await ctx.gateway.passwords.hash_async(password),
                key_digest=accounts.key_digest(key),
                tariff_id=tariff,
                name=form.get("name", "").strip()[:200],
                callback_secret=secrets.token_hex(32),
            ),
            ctx.now,
        )
    except ConflictError:
        return await accounts_page(ctx, error=f"{email}: exists", status=409)
    if opening > 0:
        await ctx.gateway.store.credit(created.id, opening, "topup", "opening balance", ctx.now)
    return await accounts_page(ctx, new_key=f"{created.id} {email} {key}")


async def account_page(ctx: Ctx, *, error: str = "", status: int = 200) -> WebResponse:
    store = ctx.gateway.store
    found = await store.account(int(ctx.req.params["id"]))
    if found is None:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return ctx.render(
        "console_account.html",
        status,
        a=found,
        tariffs=await store.tariffs(),
        ledger=await store.ledger(found.id, None, 20),
        senders=await store.senders(found.id),
        error=error,
    )


async def topup(ctx: Ctx) -> WebResponse:
    account_id = int(ctx.req.params["id"])
    try:
        amount = money.parse(ctx.req.form.get("amount", ""))
        note = ctx.req.form.get("note", "").strip()[:200] or "operator top-up"
        await ctx.gateway.store.credit(account_id, amount, "topup", note, ctx.now)
    except ValueError as exc:
        return await account_page(ctx, error=str(exc), status=400)
    except InsufficientFundsError:
        return await account_page(ctx, error="112: No money", status=400)
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect(f"/console/accounts/{account_id}?saved=1")


async def state(ctx: Ctx) -> WebResponse:
    account_id, wanted = int(ctx.req.params["id"]), ctx.req.form.get("state", "")
    if wanted not in _STATES:
        return await account_page(ctx, error=f"state {wanted!r}", status=400)
    try:
        await ctx.gateway.store.set_account_state(account_id, AccountState(wanted))
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect(f"/console/accounts/{account_id}?saved=1")


async def tariff(ctx: Ctx) -> WebResponse:
    account_id, raw = int(ctx.req.params["id"]), ctx.req.form.get("tariff", "")
    known = {t.id for t in await ctx.gateway.store.tariffs()}
    chosen = number(raw, 9)
    if chosen is None or chosen not in known:
        return await account_page(ctx, error=f"tariff {raw!r}", status=400)
    try:
        await ctx.gateway.store.update_account(account_id, AccountChanges(tariff_id=chosen))
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect(f"/console/accounts/{account_id}?saved=1")


async def senders_page(ctx: Ctx) -> WebResponse:
    wanted = ctx.req.query.get("state", "pending")
    chosen = SenderState(wanted) if wanted in {s.value for s in SenderState} else None
    items = await ctx.gateway.store.all_senders(chosen)
    return ctx.render("console_senders.html", items=items, chosen=wanted)


async def _verdict(ctx: Ctx, verdict: SenderState) -> WebResponse:
    reason = ctx.req.form.get("reason", "").strip()[:500]
    try:
        await ctx.gateway.store.set_sender_verdict(
            int(ctx.req.params["id"]), verdict, reason, ctx.now
        )
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect("/console/senders?saved=1")


async def approve(ctx: Ctx) -> WebResponse:
    return await _verdict(ctx, SenderState.APPROVED)


async def reject(ctx: Ctx) -> WebResponse:
    return await _verdict(ctx, SenderState.REJECTED)


ROUTES = [
    ("GET", "/console/", index),
    ("POST", "/console/accounts", create),
    ("GET", "/console/accounts/{id}", account_page),
    ("POST", "/console/accounts/{id}/topup", topup),
    ("POST", "/console/accounts/{id}/state", state),
    ("POST", "/console/accounts/{id}/tariff", tariff),
    ("GET", "/console/senders", senders_page),
    ("POST", "/console/senders/{id}/approve", approve),
    ("POST", "/console/senders/{id}/reject", reject),
    *console_ops.ROUTES,
]
UPLOADS = console_ops.UPLOADS
