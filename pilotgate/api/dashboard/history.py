"""Message history: filters, keyset pages on server_id, a message's detail (status timeline
and callback attempts), and the CSV export of a filtered view, streamed page by page."""

from __future__ import annotations

import csv
import dataclasses
import io
import string
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pilotgate.domain import codes, money
from pilotgate.domain.messages import Message, Status
from pilotgate.storage.dashboard import HistoryQuery

from .pages import Ctx
from .web import WebResponse, number

PAGE = 50
_IN_FLIGHT = frozenset({Status.ACCEPTED, Status.HANDED_OVER, Status.SCHEDULED, Status.HELD})
EXPORT_CHUNK = 1000
FILTERS = ("from", "to", "phone", "status", "sender", "channel", "q")
STATUS_NAMES = {
    -2: "error", -1: "not delivered", 0: "accepted", 1: "handed over", 2: "delivered",
    3: "scheduled", 4: "held",
}  # fmt: skip


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _status(raw: str) -> int | None:
    """A status filter: -2..3 as the API writes them; anything else filters nothing."""
    value = number(raw.removeprefix("-"), 1)
    return None if value is None else (-value if raw.startswith("-") else value)


def _query(ctx: Ctx, before: int | None = None) -> HistoryQuery:
    q = ctx.req.query
    until = _day(q.get("to", ""))
    return HistoryQuery(
        before_id=before,
        since=_day(q.get("from", "")),
        until=until + timedelta(days=1) if until else None,  # "to" is inclusive
        phone="".join(c for c in q.get("phone", "") if c in string.digits)[:20],
        status=_status(q.get("status", "").strip()),
        sender=q.get("sender", "").strip()[:64],
        channel=q.get("channel", "").strip().lower()[:16],
        text=q.get("q", "")[:200],
    )


def _filters(ctx: Ctx) -> dict[str, str]:
    return {k: ctx.req.query[k] for k in FILTERS if ctx.req.query.get(k)}


def _before(ctx: Ctx) -> int | None:
    return number(ctx.req.query.get("before", ""))


async def page(ctx: Ctx) -> WebResponse:
    found = await ctx.gateway.history(
        ctx.me, _query(ctx, _before(ctx)), PAGE + 1, ctx.settings.search_window
    )
    more = len(found.messages) > PAGE
    rows = found.messages[:PAGE]
    filters = _filters(ctx)
    next_url = (
        "/cabinet/history?" + urlencode({**filters, "before": rows[-1].server_id})
        if more and rows
        else ""
    )
    # A text search that stopped at its window before the page was full: nothing older is
    # hidden, the link searches on from where this page stopped.
    older_url = (
        "/cabinet/history?" + urlencode({**filters, "before": found.searched_to})
        if found.searched_to is not None
        else ""
    )
    values: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "next_url": next_url,
        "older_url": older_url,
        "searched_to": found.searched_to,
        "csv_url": "/cabinet/history.csv?" + urlencode(filters),
        "statuses": STATUS_NAMES,
    }
    if not ctx.req.header("hx-request"):
        return ctx.render("history.html", **values)
    # htmx polls the table alone while messages are on their way; 286 tells it to stop once
    # every message shown has its final status.
    waiting = any(m.status in _IN_FLIGHT for m in rows)
    return ctx.render("history_rows.html", 200 if waiting else 286, **values)


async def detail(ctx: Ctx) -> WebResponse:
    server_id = int(ctx.req.params["id"])
    found = await ctx.gateway.check(ctx.me, [server_id])
    message = found.get(server_id)
    if message is None:  # another account's message is as absent as one that never was
        return ctx.render("error.html", 404, message=ctx._("Page not found."))
    attempts = await ctx.gateway.callback_attempts(ctx.me, server_id)
    error = ""
    if message.error:
        error = codes.russian(message.error) if ctx.lang == "ru" else codes.english(message.error)
    return ctx.render(
        "message.html", m=message, attempts=attempts, statuses=STATUS_NAMES, error=error
    )


_CSV_HEADER = [
    "server_id", "packet_id", "created", "phone", "sender", "text", "parts", "channel",
    "price", "status", "error", "operator", "country", "test",
]  # fmt: skip


def _csv_row(m: Message) -> list[str]:
    text = m.text
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return [
        str(m.server_id), str(m.packet_id), m.created.strftime("%Y-%m-%d %H:%M:%S"), m.phone,
        m.sender, text, str(m.parts), m.channel, money.format(m.price), str(int(m.status)),
        str(m.error), m.operator, m.country, "1" if m.test else "0",
    ]  # fmt: skip


async def export(ctx: Ctx) -> WebResponse:
    gateway, account, query = ctx.gateway, ctx.me, _query(ctx)
    window = ctx.settings.search_window

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_CSV_HEADER)
        before = None
        while True:
            found = await gateway.history(
                account, dataclasses.replace(query, before_id=before), EXPORT_CHUNK, window
            )
            for message in found.messages:
                writer.writerow(_csv_row(message))
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            # A text search goes on window after window until it has seen every message.
            if found.searched_to is not None:
                before = found.searched_to
            elif len(found.messages) < EXPORT_CHUNK:
                return
            else:
                before = found.messages[-1].server_id

    return WebResponse(
        rows(),
        content_type="text/csv; charset=utf-8",
        headers=[("content-disposition", 'attachment; filename="messages.csv"')],
    )


ROUTES = [
    ("GET", "/cabinet/history", page),
    ("GET", "/cabinet/history.csv", export),
    ("GET", "/cabinet/messages/{id}", detail),
]
