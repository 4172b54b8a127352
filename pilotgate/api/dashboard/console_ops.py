"""The operator console's operations pages: tariffs (view, CSV import), connectors and
routes (live state, enable/disable), queue health, the global stop list."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from pilotgate.domain import phones
from pilotgate.errors import InputError, NotFoundError
from pilotgate.operations import (
    connectors as connector_ops,
    routes as route_ops,
    stops as stop_ops,
    tariffs as operations_tariffs,
)

from .pages import Ctx
from .web import WebResponse, number, redirect


async def tariffs(ctx: Ctx, *, error: str = "", status: int = 200) -> WebResponse:
    items = await operations_tariffs.listing(ctx.gateway)
    return ctx.render("console_tariffs.html", status, items=items, error=error)


async def tariff(ctx: Ctx) -> WebResponse:
    tariff_id = int(ctx.req.params["id"])
    found = await operations_tariffs.find(ctx.gateway, tariff_id)
    if found is None:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    rates = await operations_tariffs.rates(ctx.gateway, tariff_id)
    return ctx.render("console_tariff.html", t=found, rates=rates)


async def tariff_import(ctx: Ctx) -> WebResponse:
    upload = ctx.req.files.get("file")
    raw_id = ctx.req.form.get("tariff_id", "").strip() or "1"
    if upload is None or not upload.content:
        return await tariffs(ctx, error="CSV?", status=400)
    tariff_id = number(raw_id, 9)
    if tariff_id is None:
        return await tariffs(ctx, error=f"id {raw_id!r}", status=400)
    try:
        text = upload.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await tariffs(ctx, error="UTF-8?", status=400)
    name = ctx.req.form.get("name", "").strip() or upload.filename.rsplit(".", 1)[0]
    try:
        await operations_tariffs.replace(ctx.gateway, ctx.actor, tariff_id, name, text)
    except InputError as exc:
        return await tariffs(ctx, error=exc.problem, status=400)
    return redirect(f"/console/tariffs/{tariff_id}")


def _state(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {"state": raw}
    return value if isinstance(value, dict) else {"state": value}


async def connectors(ctx: Ctx) -> WebResponse:
    leases = await connector_ops.leases(ctx.gateway)
    items = [
        {"c": c, "state": _state(c.state), "lease": leases.get(c.name)}
        for c in await connector_ops.listing(ctx.gateway)
    ]
    routes = await route_ops.listing(ctx.gateway)
    return ctx.render("console_connectors.html", items=items, routes=routes)


async def _enable(ctx: Ctx, enabled: bool) -> WebResponse:
    try:
        await connector_ops.set_enabled(ctx.gateway, ctx.actor, ctx.req.params["name"], enabled)
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect("/console/connectors")


async def enable(ctx: Ctx) -> WebResponse:
    return await _enable(ctx, True)


async def disable(ctx: Ctx) -> WebResponse:
    return await _enable(ctx, False)


async def queue(ctx: Ctx) -> WebResponse:
    stats = await ctx.gateway.queue_stats()
    # Receipts and inbound SMS owed to customers' SMPP binds, per account (docs/smpp.md).
    waiting = sorted((await ctx.gateway.deliveries_waiting()).items())
    return ctx.render("console_queue.html", s=stats, smpp_waiting=waiting)


async def stops(ctx: Ctx) -> WebResponse:
    error = ""
    if ctx.req.method == "POST":
        raw = [phones.clean(p) for p in ctx.req.form.get("phones", "").replace(",", " ").split()]
        good = [p for p in raw if number(p, 15) is not None and len(p) >= 5]
        if len(good) != len(raw) or not good:
            error = "phones?"
        else:
            reason = ctx.req.form.get("reason", "")
            await stop_ops.add(ctx.gateway, ctx.actor, None, good[:1000], reason)
            return redirect("/console/stops")
    entries = await stop_ops.listing(ctx.gateway, None)
    return ctx.render("console_stops.html", 400 if error else 200, entries=entries, error=error)


async def stop_remove(ctx: Ctx) -> WebResponse:
    with contextlib.suppress(NotFoundError):  # already off the list: the page shows that
        await stop_ops.remove(ctx.gateway, ctx.actor, None, ctx.req.form.get("phone", ""))
    return redirect("/console/stops")


ROUTES = [
    ("GET", "/console/tariffs", tariffs),
    ("GET", "/console/tariffs/{id}", tariff),
    ("GET", "/console/connectors", connectors),
    ("POST", "/console/connectors/{name}/enable", enable),
    ("POST", "/console/connectors/{name}/disable", disable),
    ("GET", "/console/queue", queue),
    ("GET", "/console/stops", stops),
    ("POST", "/console/stops", stops),
    ("POST", "/console/stops/remove", stop_remove),
]
UPLOADS = [("POST", "/console/tariffs/import", tariff_import)]
