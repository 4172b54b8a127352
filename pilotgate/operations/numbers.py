"""Our service numbers: the ones an account receives SMS on, the 2WAY pool two-way
messages are sent from, and inbound SMS recorded by hand."""

from __future__ import annotations

from pilotgate.domain import phones, stoplist
from pilotgate.errors import ConfigError, NotFoundError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import PoolNumber

from . import audit


async def assign(gateway: Gateway, actor: str, number: str, account_id: int) -> str:
    """Give `number` to an account (moving it from another if it had it); the number as
    stored."""
    if await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    clean = phones.clean(number)
    await gateway.store.save_number(clean, account_id, gateway.clock())
    await audit.record(gateway, actor, "number.assign", account_id, clean)
    return clean


async def pool_add(
    gateway: Gateway, actor: str, number: str, prefix: str = "", connector: str = ""
) -> str:
    """Put `number` in the 2WAY pool (or change its prefix or link); the number as stored.
    The longest prefix matching a destination wins; '' serves any destination."""
    if prefix and not prefix.isdigit():
        raise ConfigError(f"pool prefix {prefix!r}: digits only")
    if connector and connector not in {c.name for c in await gateway.store.connectors()}:
        raise ConfigError(f"no connector {connector!r}")
    clean = phones.clean(number)
    await gateway.store.save_pool_number(clean, prefix, connector)
    detail = f"{clean} prefix {prefix or '*'} via {connector or '*'}"
    await audit.record(gateway, actor, "number.pool_add", None, detail)
    return clean


async def pool_remove(gateway: Gateway, actor: str, number: str) -> str:
    """Take `number` out of the pool (replies to messages sent from it stay linked)."""
    clean = phones.clean(number)
    if not await gateway.store.remove_pool_number(clean):
        raise NotFoundError(f"{clean} is not in the pool")
    await audit.record(gateway, actor, "number.pool_remove", None, clean)
    return clean


async def record_inbound(
    gateway: Gateway,
    actor: str,
    account_id: int,
    *,
    phone: str,
    number: str,
    text: str,
    stop_words: str,
) -> int:
    """Record an inbound SMS by hand (links record the real ones). A stop word puts the
    phone on the account's stop list, as for SMS that links receive."""
    stop = stoplist.is_stop_word(text, stoplist.parse_words(stop_words))
    sender, to = phones.clean(phone), phones.clean(number)
    item_id = await gateway.store.add_inbound(
        account_id, sender, to, text, gateway.clock(), stop=stop
    )
    detail = f"{item_id} from {sender} to {to}" + (" (stop word)" if stop else "")
    await audit.record(gateway, actor, "inbound.add", account_id, detail)
    return item_id


# queries -------------------------------------------------------------------------------------
async def pool(gateway: Gateway) -> list[PoolNumber]:
    return await gateway.store.pool_numbers()
