"""Each account's protections as the send path reads them (domain/protections.py): cached
like tariffs, so a send costs no extra statement while its account's entry is fresh, and the
operator's changes reach every process within `tariff_cache_seconds`."""

from __future__ import annotations

from pilotgate.domain.accounts import Account
from pilotgate.domain.limits import Caps
from pilotgate.domain.protections import Protections
from pilotgate.domain.tariffs import Tariff

from .core import GatewayCore

#: The country whose numbers every default set allows (the gateway's home).
HOME_COUNTRY = "RU"


class Protecting(GatewayCore):
    async def protections(self, account: Account) -> Protections:
        return await self._protections.get(account.id, lambda: self.store.protections(account.id))

    def forget_protections(self, account_id: int) -> None:
        """Read the account's protections afresh on its next send (this process changed
        them)."""
        self._protections.forget(account_id)

    def caps(self, protections: Protections) -> Caps | None:
        """The account's message caps, None when it has none (its submits then cost no
        counting at all)."""
        day, month = protections.day_cap, protections.month_cap
        caps = Caps(
            day=self.policy.default_day_cap if day is None else day,
            month=self.policy.default_month_cap if month is None else month,
        )
        return caps if caps else None

    async def countries(self, protections: Protections) -> frozenset[str]:
        """The countries an account with these protections may send to."""
        if protections.countries is not None:
            return protections.countries
        if self.policy.default_countries is not None:
            return self.policy.default_countries
        return _default_set(await self.tariff(self.policy.default_tariff))


#: The last default set worked out, with the tariff object it came from (held, so it is
#: the same object exactly while the tariff cache keeps it).
_last_default: list[tuple[Tariff, frozenset[str]]] = []


def _default_set(tariff: Tariff) -> frozenset[str]:
    """Russia and the countries `tariff` prices, once per tariff object read."""
    if _last_default and _last_default[0][0] is tariff:
        return _last_default[0][1]
    found = frozenset({rate.country.upper() for rate in tariff.rates() if rate.country})
    found |= {HOME_COUNTRY}
    _last_default[:] = [(tariff, found)]
    return found
