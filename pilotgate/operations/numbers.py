"""Our service numbers: the ones an account receives SMS on, the 2WAY pool two-way
messages are sent from, and inbound SMS recorded by hand."""

from __future__ import annotations

from datetime import datetime

from pilotgate.domain import phones, stoplist
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.storage.roles import Store


async def assign(store: Store, number: str, account_id: int, now: datetime) -> str:
    """Give `number` to an account (moving it from another if it had it); the number as
    stored."""
    if await store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    clean = phones.clean(number)
    await store.save_number(clean, account_id, now)
    return clean


async def pool_add(store: Store, number: str, prefix: str = "", connector: str = "") -> str:
    """Put `number` in the 2WAY pool (or change its prefix or link); the number as stored.
    The longest prefix matching a destination wins; '' serves any destination."""
    if prefix and not prefix.isdigit():
        raise ConfigError(f"pool prefix {prefix!r}: digits only")
    if connector and connector not in {c.name for c in await store.connectors()}:
        raise ConfigError(f"no connector {connector!r}")
    clean = phones.clean(number)
    await store.save_pool_number(clean, prefix, connector)
    return clean


async def pool_remove(store: Store, number: str) -> str:
    """Take `number` out of the pool (replies to messages sent from it stay linked)."""
    clean = phones.clean(number)
    if not await store.remove_pool_number(clean):
        raise NotFoundError(f"{clean} is not in the pool")
    return clean


async def record_inbound(
    store: Store,
    account_id: int,
    *,
    phone: str,
    number: str,
    text: str,
    stop_words: str,
    now: datetime,
) -> int:
    """Record an inbound SMS by hand (links record the real ones). A stop word puts the
    phone on the account's stop list, as for SMS that links receive."""
    stop = stoplist.is_stop_word(text, stoplist.parse_words(stop_words))
    return await store.add_inbound(
        account_id, phones.clean(phone), phones.clean(number), text, now, stop=stop
    )
