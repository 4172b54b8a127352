"""The send form: the same `Gateway.send` use case as API-1 (same validation, pricing,
routing, stop lists, charging), and the live parts-and-price counter htmx asks for."""

from __future__ import annotations

import re

from pilotgate.domain import codes, money, text as texts
from pilotgate.errors import ApiError
from pilotgate.gateway import SendRequest

from .pages import Ctx
from .web import WebResponse

#: The form's datetime-local value, `YYYY-MM-DDTHH:MM` (seconds optional), in UTC.
_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$")


def _request(ctx: Ctx, *, cost_only: bool) -> SendRequest:
    form = ctx.req.form
    # Phones may come one per line, or separated by commas, semicolons or spaces.
    phones = ",".join(p for p in re.split(r"[\s,;]+", form.get("phones", "")) if p)
    when = form.get("schedule", "").strip()
    match = _LOCAL_TIME.match(when)
    if match:
        when = f"{match.group(1)} {match.group(2)}{match.group(3) or ':00'}"
    return SendRequest(
        text=form.get("text", "").replace("\r\n", "\n"),
        to=phones or None,
        sender=form.get("sender", "").strip() or None,
        send_datetime=when or None,
        test=form.get("test") == "1",
        cost_only=cost_only,
    )


def _error(ctx: Ctx, code: int) -> str:
    return f"{code}: " + (codes.russian(code) if ctx.lang == "ru" else codes.english(code))


async def _senders(ctx: Ctx) -> list[str]:
    names = await ctx.gateway.approved_senders(ctx.me)
    default = ctx.me.default_sender or ctx.settings.default_sender
    return [default, *(n for n in names if n != default)]


async def form(ctx: Ctx) -> WebResponse:
    return ctx.render("send.html", senders=await _senders(ctx), result=None, error="", form={})


async def submit(ctx: Ctx) -> WebResponse:
    try:
        result = await ctx.gateway.send(ctx.me, _request(ctx, cost_only=False))
    except ApiError as exc:
        return ctx.render(
            "send.html",
            400,
            senders=await _senders(ctx),
            result=None,
            error=_error(ctx, exc.code),
            form=ctx.req.form,
        )
    items = [
        {
            "server_id": sid,
            "phone": d.phone,
            "price": d.price,
            "error": d.error and _error(ctx, d.error),
        }
        for sid, d in result.items
    ]
    return ctx.render(
        "send.html", senders=await _senders(ctx), result=result, items=items, error="", form={}
    )


async def count(ctx: Ctx) -> WebResponse:
    """The counter fragment: characters, encoding, parts and, when the phones are valid,
    the price the tariff asks (a `cost=1` send: nothing is stored or charged)."""
    request = _request(ctx, cost_only=True)
    body = request.text
    segmented = texts.segment(body)
    price, error = "", ""
    if body and request.to:
        try:
            result = await ctx.gateway.send(ctx.me, request)
        except ApiError as exc:
            error = _error(ctx, exc.code)
        else:
            price = money.format(result.cost)
    return ctx.render(
        "send_count.html",
        chars=len(body),
        encoding="UCS-2" if segmented.encoding is texts.Encoding.UCS2 else "GSM-7",
        parts=segmented.count,
        price=price,
        error=error,
    )
