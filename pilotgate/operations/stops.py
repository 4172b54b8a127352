"""Stop lists: sends to a listed phone get error 212. Each account has one; the global one
binds every account. The CLI's `stop` commands and the console's stop list page."""

from __future__ import annotations

from collections.abc import Sequence

from pilotgate.domain import phones as phone_rules
from pilotgate.errors import InputError, NotFoundError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import StopEntry

from . import audit

#: Longest reason kept (the list shows it next to each phone).
REASON_LENGTH = 200


def _scope(account_id: int | None) -> str:
    return "global" if account_id is None else f"account {account_id}"


async def add(
    gateway: Gateway,
    actor: str,
    account_id: int | None,
    phones: Sequence[str],
    reason: str = "",
) -> int:
    """Put `phones` on the account's list (None: the global one); returns how many were not
    there yet. Raises InputError for no phones, NotFoundError for an unknown account."""
    cleaned = [phone_rules.clean(p) for p in phones]
    if not cleaned:
        raise InputError("phones", "no phones")
    if account_id is not None and await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    why = reason.strip()[:REASON_LENGTH] or "operator"
    added = await gateway.store.add_stops(account_id, cleaned, why, gateway.clock())
    shown = " ".join(cleaned[:5]) + (" …" if len(cleaned) > 5 else "")
    detail = f"{_scope(account_id)}: {added} of {len(cleaned)} ({why}): {shown}"
    await audit.record(gateway, actor, "stop.add", account_id, detail)
    return added


async def remove(gateway: Gateway, actor: str, account_id: int | None, phone: str) -> str:
    """Take a phone off the list; the phone as stored. Raises NotFoundError when it was not
    on it."""
    clean = phone_rules.clean(phone)
    if not await gateway.store.remove_stop(account_id, clean):
        raise NotFoundError(f"{clean} is not on that list")
    await audit.record(gateway, actor, "stop.remove", account_id, f"{_scope(account_id)}: {clean}")
    return clean


# queries -------------------------------------------------------------------------------------
async def listing(gateway: Gateway, account_id: int | None) -> list[StopEntry]:
    """The phones on the account's list (None: the global one), with why and since when."""
    return await gateway.store.stop_entries(account_id)
