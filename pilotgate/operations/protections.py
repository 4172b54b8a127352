"""What an account may send (contract §17): the countries it may send to, its stop words
and the CyrLat filter, set by the operator from the CLI or the console; every change is in
the audit trail (`account.protections`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pilotgate.domain import protections as rules
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


@dataclass(frozen=True, slots=True)
class ProtectionView:
    """An account's settings and the countries they come to (the default set resolved)."""

    protections: Protections
    countries: frozenset[str]
    default: bool  # the countries are the operator's default set


async def show(gateway: Gateway, account_id: int) -> ProtectionView:
    found = await gateway.store.protections(account_id)
    return ProtectionView(found, await gateway.countries(found), found.countries is None)


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
    await gateway.store.set_protections(account_id, found)
    gateway.forget_protections(account_id)
    await audit.record(gateway, actor, "account.protections", account_id, " ".join(told))
    return await show(gateway, account_id)
