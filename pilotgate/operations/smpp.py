"""SMPP credentials of an account: set, change or remove its system_id and password (the
CLI's `account set --smpp-…` and the console's account page), and its own bind and rate
limits. The password is kept only as
its argon2 hash, made by the gateway's one hasher."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pilotgate.domain import smpp_rules
from pilotgate.errors import ConflictError, InputError, NotFoundError
from pilotgate.gateway import Gateway
from pilotgate.storage.smpp import SmppBindSeen, SmppCredentials

from . import audit
from .accounts import checked


async def set_credentials(
    gateway: Gateway,
    actor: str,
    account_id: int,
    system_id: str | None,
    password: str | None,
) -> SmppCredentials | None:
    """Apply what is given (None leaves it as it is); an empty system_id removes the
    credentials. A first system_id needs a password. Returns what the account has now.
    Raises InputError for a value breaking its rule or a system_id another account has,
    NotFoundError for no such account."""
    if await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    current = await gateway.store.smpp_credentials(account_id)
    if system_id is not None and not system_id.strip():
        await gateway.store.drop_smpp_credentials(account_id)
        await audit.record(gateway, actor, "account.smpp", account_id, "removed")
        return None
    wanted = checked("smpp_system_id", smpp_rules.system_id, system_id) if system_id else None
    secret = checked("smpp_password", smpp_rules.password, password) if password else None
    if password == "":
        raise InputError("smpp_password", "empty")
    name = wanted or (current.system_id if current else None)
    if name is None:
        if secret is None:
            return current
        raise InputError("smpp_system_id", "needed with the first SMPP password")
    if secret is None and current is None:
        raise InputError("smpp_password", "needed with the first system_id")
    digest = await gateway.passwords.hash_async(secret) if secret else None
    stored_hash = digest or (current.password_hash if current else "")
    try:
        await gateway.store.set_smpp_credentials(account_id, name, stored_hash, gateway.clock())
    except ConflictError:
        raise InputError("smpp_system_id", f"{name} belongs to another account") from None
    told = [f"system_id={name!r}"] + (["password changed"] if secret else [])
    await audit.record(gateway, actor, "account.smpp", account_id, " ".join(told))
    return await gateway.store.smpp_credentials(account_id)


async def credentials(gateway: Gateway, account_id: int) -> SmppCredentials | None:
    return await gateway.store.smpp_credentials(account_id)


async def set_limits(
    gateway: Gateway, actor: str, account_id: int, max_binds: str | None, mps: str | None
) -> SmppCredentials:
    """The account's own concurrent binds and messages per second ("" = the default, "0" =
    none; None leaves it as it is). InputError for a malformed value or an account without
    SMPP credentials; NotFoundError for no such account."""
    if await gateway.store.account(account_id) is None:
        raise NotFoundError(f"no account {account_id}")
    current = await gateway.store.smpp_credentials(account_id)
    if current is None:
        raise InputError("smpp_system_id", "the account has no SMPP credentials yet")
    binds = (
        current.max_binds
        if max_binds is None
        else checked("smpp_binds", smpp_rules.limit, max_binds)
    )
    rate = current.mps if mps is None else checked("smpp_mps", smpp_rules.limit, mps)
    await gateway.store.set_smpp_limits(account_id, binds, rate)
    told = " ".join(
        f"{name}={'default' if value is None else value}"
        for name, value in (("max_binds", binds), ("mps", rate))
    )
    await audit.record(gateway, actor, "account.smpp_limits", account_id, told)
    updated = await gateway.store.smpp_credentials(account_id)
    assert updated is not None
    return updated


@dataclass(frozen=True, slots=True)
class LiveBind:
    bind: SmppBindSeen
    #: Messages per second over the serving process's last renewal interval, exact.
    mps: Decimal
    #: Receipts and inbound SMS waiting for the account's receiving binds (all of them).
    waiting: int


async def live_binds(gateway: Gateway) -> list[LiveBind]:
    """Every live bind of every node, for the console's SMPP page (docs/smpp.md "Seen")."""
    binds = await gateway.smpp_binds_live()
    waiting = await gateway.deliveries_waiting() if binds else {}
    return [LiveBind(b, Decimal(b.mps_milli) / 1000, waiting.get(b.account_id, 0)) for b in binds]
