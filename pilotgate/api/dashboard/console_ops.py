"""The operator console's operations pages: tariffs (view, CSV import), connectors and
routes (live state, enable/disable), queue health, the global stop list."""

from __future__ import annotations

import json
from typing import Any

from pilotgate.domain import phones, tariff_csv
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.operations import connectors as connector_ops

from .pages import Ctx
from .web import WebResponse, number, redirect


async def tariffs(ctx: Ctx, *, error: str = "", status: int = 200) -> WebResponse:
    items = await ctx.gateway.store.tariffs()
    return ctx.render("console_tariffs.html", status, items=items, error=error)


async def tariff(ctx: Ctx) -> WebResponse:
    tariff_id = int(ctx.req.params["id"])
    known = {t.id: t for t in await ctx.gateway.store.tariffs()}
    if tariff_id not in known:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    rates = await ctx.gateway.store.tariff_rates(tariff_id)
    return ctx.render("console_tariff.html", t=known[tariff_id], rates=rates)


async def tariff_import(ctx: Ctx) -> WebResponse:
    upload = ctx.req.files.get("file")
    raw_id = ctx.req.form.get("tariff_id", "").strip() or "1"
    if upload is None or not upload.content:
        return await tariffs(ctx, error="CSV?", status=400)
    tariff_id = number(raw_id, 9)
    if tariff_id is None:
        return await tariffs(ctx, error=f"id {raw_id!r}", status=400)
    try:
        rates = tariff_csv.parse(upload.content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return await tariffs(ctx, error="UTF-8?", status=400)
    except ConfigError as exc:
        return await tariffs(ctx, error=str(exc), status=400)
    name = ctx.req.form.get("name", "").strip()[:100] or upload.filename.rsplit(".", 1)[0][:100]
    await ctx.gateway.store.replace_tariff(tariff_id, name or raw_id, rates)
    return redirect(f"/console/tariffs/{tariff_id}")


def _state(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {"state": raw}
    return value if isinstance(value, dict) else {"state": value}


async def connectors(ctx: Ctx) -> WebResponse:
    store = ctx.gateway.store
    leases = {lease.name: lease for lease in await store.link_leases()}
    items = [
        {"c": c, "state": _state(c.state), "lease": leases.get(c.name)}
        for c in await store.connectors()
    ]
    return ctx.render("console_connectors.html", items=items, routes=await store.routes())


async def _enable(ctx: Ctx, enabled: bool) -> WebResponse:
    try:
        await connector_ops.set_enabled(ctx.gateway.store, ctx.req.params["name"], enabled)
    except NotFoundError:
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    return redirect("/console/connectors")


async def enable(ctx: Ctx) -> WebResponse:
    return await _enable(ctx, True)


async def disable(ctx: Ctx) -> WebResponse:
    return await _enable(ctx, False)


async def queue(ctx: Ctx) -> WebResponse:
    stats = await ctx.gateway.store.queue_stats(ctx.now)
    return ctx.render("console_queue.html", s=stats)


async def stops(ctx: Ctx) -> WebResponse:
    error = ""
    if ctx.req.method == "POST":
        raw = [phones.clean(p) for p in ctx.req.form.get("phones", "").replace(",", " ").split()]
        good = [p for p in raw if number(p, 15) is not None and len(p) >= 5]
        if len(good) != len(raw) or not good:
            error = "phones?"
        else:
            reason = ctx.req.form.get("reason", "").strip()[:200] or "operator"
            await ctx.gateway.store.add_stops(None, good[:1000], reason, ctx.now)
            return redirect("/console/stops")
    entries = await ctx.gateway.store.stop_entries(None)
    return ctx.render("console_stops.html", 400 if error else 200, entries=entries, error=error)


async def stop_remove(ctx: Ctx) -> WebResponse:
    await ctx.gateway.store.remove_stop(None, phones.clean(ctx.req.form.get("phone", "")))
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
