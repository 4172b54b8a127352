"""Each recipient of a send priced and routed: its tariff row and route, by the operator the
numbering plan names, and the SMS a VIBERSMS message may fall back to."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pilotgate.domain import hybrid, phones, routing
from pilotgate.domain.accounts import Account
from pilotgate.domain.channels import Channel
from pilotgate.domain.messages import Draft, Status, Template, addressed
from pilotgate.domain.numbering import Numbering
from pilotgate.domain.tariffs import Tariff

from .core import GatewayCore


class Pricing(GatewayCore):
    async def _table(self, account: Account, test: bool) -> routing.RoutingTable | None:
        """The routing table, or None when everything goes to the emulator: test=1 and the
        demo account never leave the gateway."""
        if test or account.email in self.policy.emulator_emails:
            return None
        return await self.routing()

    @staticmethod
    def _per_recipient(
        raw: Sequence[str],
        template: Template,
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
                fallback = Pricing._sms_fallback(
                    template.fallback, checked.phone, tariff, table, emulator, known
                )
            drafts.append(
                addressed(
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
