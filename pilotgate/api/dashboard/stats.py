"""Statistics: messages per day by status, delivery rate, spend per day and totals by
operator, from the per-day aggregate the database keeps (never a scan of messages).
Charts are drawn by the vendored Chart.js from a JSON island (static/charts.js)."""

from __future__ import annotations

import collections
from datetime import timedelta

from pilotgate.domain import money

from .pages import Ctx
from .web import WebResponse, number

#: Series of the per-day chart: label → statuses counted in it.
SERIES = {
    "delivered": (2,),
    "not delivered": (-1,),
    "error": (-2,),
    "in progress": (0, 1, 3),
    "held": (4,),
}
#: Statuses whose price is not spent: refused messages are not charged, held ones not yet
#: (a release moves them to 0 and their price into the spend; a reject to -2, never).
UNCHARGED = (-2, 4)


def _days(ctx: Ctx) -> int:
    days = number(ctx.req.query.get("days", "30"), 3)
    return 30 if days is None else min(max(days, 1), 366)


async def page(ctx: Ctx) -> WebResponse:
    days = _days(ctx)
    until = ctx.now.date()
    since = until - timedelta(days=days - 1)
    rows = await ctx.gateway.daily_stats(ctx.me, since, until)
    labels = [(since + timedelta(days=i)).isoformat() for i in range(days)]
    index = {label: i for i, label in enumerate(labels)}
    series = {name: [0] * days for name in SERIES}
    spend = [0] * days
    operators: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for row in rows:
        i = index[row.day.isoformat()]
        for name, statuses in SERIES.items():
            if row.status in statuses:
                series[name][i] += row.count
        if row.status not in UNCHARGED:
            spend[i] += row.spend
            operators[row.operator or "-"][1] += row.spend
        operators[row.operator or "-"][0] += row.count
        if row.status == 2:
            operators[row.operator or "-"][2] += row.count
    rate = []
    for delivered, failed in zip(series["delivered"], series["not delivered"], strict=True):
        final = delivered + failed
        rate.append(round(100 * delivered / final, 1) if final else None)
    chart = {
        "labels": labels,
        "series": [{"label": ctx._(name), "data": data} for name, data in series.items()],
        "rate": {"label": ctx._("Delivery rate"), "data": rate},
        "spend": {"label": ctx._("Spend"), "data": [s / 100 for s in spend]},
    }
    totals = sorted(operators.items(), key=lambda item: -item[1][0])
    total_count = sum(sum(data) for data in series.values())
    delivered, failed = sum(series["delivered"]), sum(series["not delivered"])
    return ctx.render(
        "stats.html",
        days=days,
        chart=chart,
        operators=[
            {
                "name": name,
                "count": c,
                "spend": money.format(s),
                "rate": f"{100 * d / c:.1f}" if c else "-",
            }
            for name, (c, s, d) in totals
        ],
        total_count=total_count,
        total_spend=money.format(sum(spend)),
        total_rate=f"{100 * delivered / (delivered + failed):.1f}" if delivered + failed else "-",
    )
