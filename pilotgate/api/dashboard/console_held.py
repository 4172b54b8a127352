"""The console's Held page: messages held as suspected SMS pumping, one batch an account,
each with Release and Reject buttons (pilotgate.operations.held; CSRF as every form). And
its SMPP page: the live binds of every node (pilotgate.operations.smpp.live_binds)."""

from __future__ import annotations

from pilotgate.errors import InputError
from pilotgate.operations import held as held_ops, smpp as smpp_ops

from .pages import Ctx
from .web import WebResponse, redirect


async def held(ctx: Ctx, *, error: str = "", status: int = 200) -> WebResponse:
    batches = await held_ops.batches(ctx.gateway)
    return ctx.render("console_held.html", status, batches=batches, error=error)


async def release(ctx: Ctx) -> WebResponse:
    try:
        await held_ops.release(ctx.gateway, ctx.actor, int(ctx.req.params["id"]))
    except InputError as exc:
        return await held(ctx, error=exc.problem, status=400)
    return redirect("/console/held")


async def reject(ctx: Ctx) -> WebResponse:
    await held_ops.reject(ctx.gateway, ctx.actor, int(ctx.req.params["id"]))
    return redirect("/console/held")


async def smpp(ctx: Ctx) -> WebResponse:
    return ctx.render("console_smpp.html", binds=await smpp_ops.live_binds(ctx.gateway))


ROUTES = [
    ("GET", "/console/smpp", smpp),
    ("GET", "/console/held", held),
    ("POST", "/console/held/{id}/release", release),
    ("POST", "/console/held/{id}/reject", reject),
]
