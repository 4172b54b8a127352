"""The checks a send's drafts pass once they are priced: stop lists and loop protection,
2WAY pool numbers, and the origins callbacks may not reach."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from pilotgate.domain import routing, stoplist, two_way
from pilotgate.domain.accounts import Account
from pilotgate.domain.messages import Draft, Status

from .core import GatewayCore, _origin


class Screening(GatewayCore):
    async def _screen(
        self, account: Account, drafts: list[Draft], now: datetime, *, within_request: bool = True
    ) -> list[Draft]:
        """Stop lists (212) and loop protection (243), per recipient (contract §5.4): one query
        for the stop lists and, when the account's window is on, one for its recent texts,
        whatever the number of recipients."""
        phones_ = [d.phone for d in drafts if not d.error]
        if not phones_:
            return drafts
        stopped = await self.store.stopped(account.id, phones_)
        window = account.loop_window
        if window is None:
            window = self.policy.loop_window_seconds
        recent: set[tuple[str, str]] = set()
        if window > 0:
            since = now - timedelta(seconds=window)
            recent = await self.store.recent_texts(account.id, phones_, since)
        return stoplist.screen(
            drafts, stopped, recent, loop_protection=window > 0, within_request=within_request
        )

    async def _two_way_senders(self, drafts: list[Draft], now: datetime) -> list[Draft]:
        """2WAY drafts get the pool number they go from as their sender (`sender_orig` keeps
        "2WAY"): one of their route's (domain/two_way.py `for_route`), the phone has no open
        conversation on when there is one (contract §13.5). A number that belongs to a link
        narrows the route to that link. No usable number is error 213: nothing serves them."""
        wanted = [d.phone for d in drafts if d.sender == two_way.TWO_WAY and not d.error]
        if not wanted:
            return drafts
        pool = [(p.number, p.prefix, p.connector) for p in await self.store.pool_numbers()]
        carrier = {number: connector for number, _, connector in pool}
        since = now - timedelta(hours=self.policy.two_way_hours)
        open_ = dict(await self.store.two_way_open(wanted, since)) if pool else {}
        result = []
        for d in drafts:
            if d.sender != two_way.TWO_WAY or d.error:
                result.append(d)
                continue
            route = routing.parse_connectors(d.route)
            # Only the emulator carries it (test=1, the demo account, the default route):
            # nothing leaves the gateway, so any number of the pool will do.
            if route == (self.policy.emulator_route,):
                usable = [(number, prefix) for number, prefix, _ in pool]
            else:
                usable = two_way.for_route(pool, route)
            number = two_way.pick(d.phone, usable, open_)
            if number is None:
                d = dataclasses.replace(d, status=Status.ERROR, error=213, price=0, route="")
            else:
                # A number of one link goes out through that link (its replies come in there).
                via = carrier[number] if carrier[number] in route else d.route
                d = dataclasses.replace(d, sender=number, sender_orig=two_way.TWO_WAY, route=via)
                open_[(d.phone, number)] = now
            result.append(d)
        return result

    async def _refused_origins(self, urls: Iterable[str]) -> set[str]:
        """The origins among `urls` that callbacks may not reach. Where a callback may go
        depends on its scheme, host and port only, and a packet's callback URLs usually
        differ in their query alone: each origin is resolved once, all of them at once."""
        origins = list({_origin(url) for url in urls})
        verdicts = await asyncio.gather(*(self.callback_check(o) for o in origins))
        return {origin for origin, why in zip(origins, verdicts, strict=True) if why is not None}
