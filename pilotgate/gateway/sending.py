"""The send use cases of API-1 and API-2: a request's drafts made (drafting.py), priced and
routed (pricing.py), screened (screening.py), then the atomic submit."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from pilotgate.domain import checks, limits, phones, protections, pumping
from pilotgate.domain.accounts import Account
from pilotgate.domain.idempotency import Claim
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Status
from pilotgate.errors import ApiError, CapReachedError, InsufficientFundsError
from pilotgate.pipeline import metrics
from pilotgate.storage.base import Submitted

from .core import PacketResult, SendRequest, SendResult, _origin, _SenderNames
from .drafting import Drafting
from .holding import Holding
from .pricing import Pricing
from .screening import Screening


class Sending(Drafting, Pricing, Screening, Holding):
    async def send(
        self, account: Account, request: SendRequest, claim: Claim | None = None
    ) -> SendResult:
        """Validate, price, store and debit one API-1 send (contract §5). With a `claim`,
        its idempotency key is claimed with the messages (KeyClaimedError: taken)."""
        now = self.clock()
        guard = await self.protections(account)
        names = _SenderNames(self.store, account)
        template = await self._template(account, request, now, names, guard)
        if not request.to:
            raise ApiError(108)
        raw = phones.split_list(request.to)
        if not raw:
            raise ApiError(108)
        if len(raw) > self.policy.max_recipients:
            raise ApiError(240, detail=f"more than {self.policy.max_recipients} recipients")
        if template.channel in checks.CHECK_CHANNELS and len(raw) > checks.MAX_NUMBERS:
            raise ApiError(240, detail=f"more than {checks.MAX_NUMBERS} numbers to check")
        tariff = await self.tariff(account.tariff_id)
        table = await self._table(account, request.test)
        plan = await self.numbering.fresh()
        drafts = checks.plan(  # HLRVIP: a PING leg where the HLR route is unreliable
            protections.geo_screen(
                self._per_recipient(raw, template, tariff, table, self.policy.emulator_route, plan),
                await self.countries(guard),
            ),
            tariff,
            table,
        )
        drafts = await self._two_way_senders(drafts, now)
        drafts = await self._screen(account, drafts, now, within_request=False)
        failed = [draft for draft in drafts if draft.error]
        # The whole-request rule (contract §5.4): more failures than successes fail it all.
        if failed and len(failed) > len(drafts) - len(failed):
            raise ApiError(failed[0].error, phone=failed[0].phone)
        # Checked last: it resolves the host, which no request that fails otherwise should wait
        # for. Where callbacks may go is the operator's rule (docs/decisions.md).
        if template.callback and await self.callback_check(template.callback) is not None:
            raise ApiError(260)
        drafts = self._default_callback(account, drafts)
        cost = sum(draft.price for draft in drafts)
        if request.cost_only:
            return SendResult(
                items=[(0, d) for d in drafts], cost=cost, balance=account.balance, packet_id=0
            )
        drafts = self.sequences(drafts)
        velocity = self.velocity(account, request.source)
        stored = await self._submit(
            account, drafts, now, SubmitGuard(claim, self.caps(guard), velocity)
        )
        drafts = self.as_stored(account, drafts, stored)
        return SendResult(
            items=list(zip(stored.server_ids, drafts, strict=True)),
            cost=pumping.charged(drafts),
            balance=stored.balance,
            packet_id=stored.server_ids[0],
            created=now,
        )

    async def send_packet(
        self,
        account: Account,
        requests: Sequence[SendRequest],
        *,
        cost_only: bool = False,
        claim: Claim | None = None,
    ) -> PacketResult:
        """Validate, price, store and debit an API-2 packet of different messages (contract §12).

        Each request names one recipient and is judged alone, by the same rules as an API-1
        send: a failing one becomes its error code in `items`, never an exception. The valid
        ones are stored and debited in one transaction, all or none (112: none).
        """
        now = self.clock()
        names = _SenderNames(self.store, account)
        tariff = await self.tariff(account.tariff_id)
        table = await self._table(account, test=False)
        plan = await self.numbering.fresh()
        guard = await self.protections(account)
        countries = await self.countries(guard)
        outcomes: list[Draft | int] = []
        for request in requests:
            try:
                template = await self._template(account, request, now, names, guard)
                if not (request.to or "").strip():
                    raise ApiError(108)
                routes = None if request.test else table
                (draft,) = checks.plan(  # HLRVIP: a PING leg where the HLR route is unreliable
                    protections.geo_screen(
                        self._per_recipient(
                            [request.to or ""],
                            template,
                            tariff,
                            routes,
                            self.policy.emulator_route,
                            plan,
                        ),
                        countries,
                    ),
                    tariff,
                    routes,
                )
            except ApiError as exc:
                outcomes.append(exc.code)
            else:
                outcomes.append(draft.error or draft)
        numbered = iter(
            await self._two_way_senders([o for o in outcomes if isinstance(o, Draft)], now)
        )
        outcomes = [o if isinstance(o, int) else next(numbered) for o in outcomes]
        outcomes = [o.error or o if isinstance(o, Draft) else o for o in outcomes]
        screened = iter(
            await self._screen(account, [o for o in outcomes if isinstance(o, Draft)], now)
        )
        outcomes = [o if isinstance(o, int) else next(screened) for o in outcomes]
        outcomes = [o.error or o if isinstance(o, Draft) else o for o in outcomes]
        refused = await self._refused_origins(
            o.callback for o in outcomes if isinstance(o, Draft) and o.callback
        )
        if refused:
            outcomes = [
                260 if isinstance(o, Draft) and _origin(o.callback or "") in refused else o
                for o in outcomes
            ]
        valid = self._default_callback(account, [o for o in outcomes if isinstance(o, Draft)])
        cost = sum(draft.price for draft in valid)
        if cost_only or not valid:
            items = [(0, o) if isinstance(o, Draft) else o for o in outcomes]
            return PacketResult(items=items, cost=cost, balance=account.balance, packet_id=0)
        valid = self.sequences(valid)
        velocity = self.velocity(account, requests[0].source if requests else "")
        stored = await self._submit(
            account, valid, now, SubmitGuard(claim, self.caps(guard), velocity)
        )
        valid = self.as_stored(account, valid, stored)
        accepted = iter(zip(stored.server_ids, valid, strict=True))
        return PacketResult(
            items=[next(accepted) if isinstance(o, Draft) else o for o in outcomes],
            cost=pumping.charged(valid),
            balance=stored.balance,
            packet_id=stored.server_ids[0],
            created=now,
        )

    @staticmethod
    def _default_callback(account: Account, drafts: list[Draft]) -> list[Draft]:
        """The account's default status URL, fixed into each message without its own when it
        is sent, so the database writes a callback job only for messages that have a URL."""
        if not account.status_url:
            return drafts
        return [
            d
            if d.callback
            else dataclasses.replace(
                d, callback=account.status_url, callback_method=account.status_method
            )
            for d in drafts
        ]

    async def _submit(
        self, account: Account, drafts: list[Draft], now: datetime, guard: SubmitGuard
    ) -> Submitted:
        """Store and debit; with the guard's idempotency claim and caps, if any (a
        KeyClaimedError propagates to api/retries.py)."""
        wanted = guard if guard.claim or guard.caps or guard.velocity else None
        try:
            stored = await self.store.submit(account.id, drafts, now, wanted)
        except InsufficientFundsError:
            raise ApiError(112) from None
        except CapReachedError:
            raise ApiError(limits.CAP_REACHED) from None
        # Counted per kind, not per message: a label lookup per message of a 10,000-item
        # packet would cost more than the rest of its bookkeeping. A plain dict, not a
        # collections.Counter: a single send paid more for the Counter than for its count.
        kinds: dict[tuple[str, Status], int] = {}
        for draft in drafts:
            kind = (draft.channel, draft.status)
            kinds[kind] = kinds.get(kind, 0) + 1
        for (channel, status), count in kinds.items():
            metrics.counter(metrics.MESSAGES_ACCEPTED, channel, str(int(status))).inc(count)
        return stored
