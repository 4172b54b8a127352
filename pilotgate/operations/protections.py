"""What an account may send (contract §17): the countries it may send to, its stop words,
the CyrLat filter and its message caps, set by the operator from the CLI or the console;
every change is in the audit trail (`account.protections`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pilotgate.domain import protections as rules
from pilotgate.domain.limits import Caps
from pilotgate.domain.protections import Protections
from pilotgate.errors import NotFoundError
from pilotgate.gateway import Gateway

from . import audit
from .accounts import checked


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionChanges:
    """The settings an operator typed; None leaves one as it is. `countries` "" goes back
    to the operator's default set."""

    countries: str | None = None
    stop_words: str | None = None
    cyrlat: bool | None = None
    #: Messages per UTC day and month: a number (0 = no cap) or "default".
    day_cap: str | None = None
    month_cap: str | None = None


@dataclass(frozen=True, slots=True)
class ProtectionView:
    """An account's settings and what they come to (the operator's defaults resolved)."""

    protections: Protections
    countries: frozenset[str]
    default: bool  # the countries are the operator's default set
    caps: Caps  # 0 = no cap


async def show(gateway: Gateway, account_id: int) -> ProtectionView:
    found = await gateway.store.protections(account_id)
    return ProtectionView(
        found,
        await gateway.countries(found),
        found.countries is None,
        gateway.caps(found) or Caps(),
    )


async def change(
    gateway: Gateway, actor: str, account_id: int, changes: ProtectionChanges
) -> ProtectionView:
    """Apply the changes, each held to its rule (InputError names the field). Raises
    NotFoundError for an unknown account."""
    if await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    found = await gateway.store.protections(account_id)
    told = []
    if changes.countries is not None:
        countries = None
        if changes.countries.strip():
            countries = checked("countries", rules.parse_countries, changes.countries)
        found = replace(found, countries=countries)
        told.append(
            f"countries={'default' if countries is None else rules.show_countries(countries)}"
        )
    if changes.stop_words is not None:
        words = checked("stop_words", rules.parse_stop_words, changes.stop_words)
        found = replace(found, stop_words=words)
        told.append(f"stop_words={len(words)}")
    if changes.cyrlat is not None:
        found = replace(found, cyrlat=changes.cyrlat)
        told.append(f"cyrlat={int(changes.cyrlat)}")
    if changes.day_cap is not None:
        found = replace(found, day_cap=checked("day_cap", rules.parse_cap, changes.day_cap))
        told.append(f"day_cap={found.day_cap}")
    if changes.month_cap is not None:
        found = replace(found, month_cap=checked("month_cap", rules.parse_cap, changes.month_cap))
        told.append(f"month_cap={found.month_cap}")
    await gateway.store.set_protections(account_id, found)
    gateway.forget_protections(account_id)
    await audit.record(gateway, actor, "account.protections", account_id, " ".join(told))
    return await show(gateway, account_id)
