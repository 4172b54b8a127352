"""The send use cases of API-1 and API-2: per-recipient rules, pricing, routing, screening
and the atomic submit."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pilotgate.domain import (
    checks,
    hybrid,
    limits,
    params,
    phones,
    protections,
    pumping,
    routing,
    senders as sender_rules,
    speech,
    stoplist,
    text as texts,
    two_way,
)
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import CHECK_TEXTS, SPECIAL_SENDERS, VIBER_MAX_CHARS, Channel
from pilotgate.domain.idempotency import Claim
from pilotgate.domain.limits import SubmitGuard
from pilotgate.domain.messages import Draft, Status
from pilotgate.domain.numbering import Numbering
from pilotgate.domain.tariffs import Tariff
from pilotgate.errors import ApiError, CapReachedError, InsufficientFundsError
from pilotgate.pipeline import metrics
from pilotgate.storage.base import Submitted

from .core import (
    VOICE_MAX_CHARS,
    PacketResult,
    SendRequest,
    SendResult,
    _origin,
    _SenderNames,
)
from .holding import Holding


class Sending(Holding):
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

    async def _template(
        self,
        account: Account,
        request: SendRequest,
        now: datetime,
        names: _SenderNames,
        guard: protections.Protections,
    ) -> Draft:
        """What one text decides whatever its recipients: channel, sender, parts, schedule,
        ttl and callback; errors in the order API-1 has always checked them, then the
        account's content filters (247, 248; contract §17.3)."""
        channel, sender = await self._sender_and_channel(account, request, names)
        parts = self._parts(request.text, channel)
        filtered = protections.content_error(request.text, guard)
        if filtered:
            raise ApiError(filtered)
        fallback = None
        if sender == hybrid.VIBERSMS:
            # The SMS it may become must be possible too: its text must fit an SMS (221).
            fallback = hybrid.Fallback(
                sender=account.default_sender or self.policy.default_sender,
                parts=self._parts(request.text, Channel.SMS),
                price=0,
                route="",
            )
        when = params.send_datetime(request.send_datetime, now) if request.send_datetime else None
        ttl = params.ttl(request.ttl) if request.ttl else None
        callback = params.callback_url(request.callback) if request.callback else None
        method = params.callback_method(request.callback_method or "")
        validity = (
            timedelta(minutes=ttl)
            if ttl
            else timedelta(seconds=self.policy.default_validity_seconds)
        )
        return Draft(
            phone="",
            sender=sender,
            text=request.text,
            parts=parts,
            channel=channel,
            price=0,
            status=Status.SCHEDULED if when else Status.ACCEPTED,
            error=0,
            send_datetime=when,
            ttl=ttl,
            callback=callback,
            callback_method=method if callback else None,
            country="",
            operator="",
            test=request.test,
            expires_at=(when or now) + validity,
            fallback=fallback,
            client_id=request.client_id,
            smpp_receipt=request.smpp_receipt,
        )

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

    async def _table(self, account: Account, test: bool) -> routing.RoutingTable | None:
        """The routing table, or None when everything goes to the emulator: test=1 and the
        demo account never leave the gateway."""
        if test or account.email in self.policy.emulator_emails:
            return None
        return await self.routing()

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
        # packet would cost more than the rest of its bookkeeping.
        kinds = collections.Counter((draft.channel, str(int(draft.status))) for draft in drafts)
        for (channel, status), count in kinds.items():
            metrics.MESSAGES_ACCEPTED.labels(channel, status).inc(count)
        return stored

    @staticmethod
    def _per_recipient(
        raw: Sequence[str],
        template: Draft,
        tariff: Tariff,
        table: routing.RoutingTable | None,
        emulator: str,
        plan: Numbering,
    ) -> list[Draft]:
        """One draft per distinct phone: routed and priced, or failed with its error (213 when
        no tariff row or no route serves it). The numbering plan names the operator (ported
        numbers included) that picks the tariff row and the route; a number of the plan's
        country outside every range is 111 (contract §2). Without a table, everything goes to
        `emulator`."""
        drafts: list[Draft] = []
        seen: set[str] = set()
        for item in raw:
            checked = phones.check(item)
            if checked.phone in seen:
                continue  # one message per distinct phone
            seen.add(checked.phone)
            error, price, operator, via = checked.error, 0, "", emulator
            owner = None if error else plan.owner(checked.phone)
            known = owner.operator if owner else ""
            if owner is not None and not known:
                error = 111  # outside every range of the plan
            if not error:
                rate = tariff.rate(checked.phone, template.channel, known)
                route = table.route(checked.phone, template.channel, known) if table else None
                if rate is None or (table is not None and route is None):
                    error = 213
                else:
                    price, operator = rate.price * template.parts, known or rate.operator
                    via = ",".join(route.connectors) if route else emulator
            fallback = None
            if template.fallback is not None and not error:
                fallback = Sending._sms_fallback(
                    template.fallback, checked.phone, tariff, table, emulator, known
                )
            drafts.append(
                dataclasses.replace(
                    template,
                    phone=checked.phone,
                    price=price,
                    status=Status.ERROR if error else template.status,
                    error=error,
                    country=owner.country if owner else checked.country,
                    operator=operator,
                    route="" if error else via,
                    fallback=fallback,
                )
            )
        return drafts

    @staticmethod
    def _sms_fallback(
        plan: hybrid.Fallback,
        phone: str,
        tariff: Tariff,
        table: routing.RoutingTable | None,
        emulator: str,
        operator: str = "",
    ) -> hybrid.Fallback | None:
        """The SMS a VIBERSMS message to `phone` becomes, priced and routed now; None when no
        SMS rate or route serves the phone: it is then a plain Viber message (a Viber attempt
        is more use to the sender than error 213). Without a table, the emulator carries it."""
        rate = tariff.rate(phone, Channel.SMS, operator)
        route = table.route(phone, Channel.SMS, operator) if table else None
        if rate is None or (table is not None and route is None):
            return None
        return dataclasses.replace(
            plan,
            price=rate.price * plan.parts,
            route=",".join(route.connectors) if route else emulator,
        )

    async def _sender_and_channel(
        self, account: Account, request: SendRequest, names: _SenderNames
    ) -> tuple[Channel, str]:
        check_channel = CHECK_TEXTS.get(request.text.strip().upper())
        if check_channel is not None:
            return check_channel, request.text.strip().upper()
        sender = request.sender or account.default_sender or self.policy.default_sender
        special = SPECIAL_SENDERS.get(sender.upper())
        if special is not None:
            return special, sender.upper()
        if not sender_rules.is_valid(sender):
            raise ApiError(115)
        if sender != self.policy.default_sender and not account.any_sender:
            if sender not in await names.approved():
                raise ApiError(204)
        return Channel.SMS, sender

    def _parts(self, text: str, channel: Channel) -> int:
        if not text:
            raise ApiError(220)
        if channel is Channel.SMS:
            # A quick bound first, so a 100 KB text is refused without being cut up.
            if len(text) > self.policy.max_parts * texts.GSM_MULTI:
                raise ApiError(221)
            parts = texts.count_parts(text)
            if parts > self.policy.max_parts:
                raise ApiError(221)
            return parts
        if channel is Channel.FLASHCALL:
            if not (text.isdigit() and text.isascii() and 4 <= len(text) <= 6):
                raise ApiError(221, detail="a flash call code is 4-6 digits")
        elif channel is Channel.VIBER and len(text) > VIBER_MAX_CHARS:
            raise ApiError(221)
        elif channel is Channel.VOICE and len(text) > VOICE_MAX_CHARS:
            raise ApiError(221)
        elif channel is Channel.VOICE and speech.too_long(text, self.policy.voice_max_seconds):
            raise ApiError(221, detail="the speech would take too long")
        return 1
