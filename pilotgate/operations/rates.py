"""Each account's rates (contract §17.5): API requests per second and messages per second
leaving the queue, set by the operator from the CLI or the console; every change is in the
audit trail (`account.rates`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pilotgate.domain import rates as rules
from pilotgate.domain.rates import Rates
from pilotgate.errors import NotFoundError
from pilotgate.gateway import Gateway

from . import audit
from .accounts import checked


@dataclass(frozen=True, slots=True, kw_only=True)
class RateChanges:
    """The rates an operator typed: a number per second (0 = no limit), "default" or ""
    for the operator's default; None leaves one as it is."""

    api_rps: str | None = None
    mps: str | None = None


@dataclass(frozen=True, slots=True)
class RateView:
    """An account's own rates and the ones that apply (defaults resolved; 0 = no limit)."""

    own: Rates
    api_rps: int
    mps: int


async def show(gateway: Gateway, account_id: int) -> RateView:
    own = await gateway.store.rates(account_id)
    return RateView(own, gateway.api_rps(own), rules.effective(own.mps, gateway.policy.default_mps))


async def change(gateway: Gateway, actor: str, account_id: int, changes: RateChanges) -> RateView:
    """Apply the changes (InputError names the field). Raises NotFoundError for an unknown
    account. Running processes see a change within `tariff_cache_seconds` (this one at
    once)."""
    if await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    own = await gateway.store.rates(account_id)
    told = []
    if changes.api_rps is not None:
        own = replace(own, api_rps=checked("api_rps", rules.parse_rate, changes.api_rps))
        told.append(f"api_rps={_shown(own.api_rps)}")
    if changes.mps is not None:
        own = replace(own, mps=checked("mps", rules.parse_rate, changes.mps))
        told.append(f"mps={_shown(own.mps)}")
    await gateway.store.set_rates(account_id, own)
    gateway.forget_rates(account_id)
    await audit.record(gateway, actor, "account.rates", account_id, " ".join(told))
    return await show(gateway, account_id)


def _shown(rate: int | None) -> str:
    return "default" if rate is None else str(rate)
