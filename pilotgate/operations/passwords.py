"""Password changes from the cabinet and the console: the new password is held to the one
rule (domain.passwords), hashed in the gateway's pool, stored and recorded in the audit trail
(never the password nor its hash). Checking the current one is the caller's: it is a login's
check, with the login's lockout (gateway.passwords)."""

from __future__ import annotations

from pilotgate.domain import registration
from pilotgate.gateway import Gateway

from . import audit
from .accounts import checked


async def change_customer(gateway: Gateway, actor: str, account_id: int, new: str) -> str:
    """Set the account's password; returns the stored hash (the session's fingerprint is
    made from it). Raises InputError for a password breaking the rule."""
    hashed = await gateway.passwords.hash_async(checked("password", registration.password, new))
    await gateway.store.set_account_password(account_id, hashed)
    await audit.record(gateway, actor, "account.password", account_id, "changed")
    return hashed


async def change_operator(gateway: Gateway, actor: str, operator_id: int, new: str) -> str:
    """Set the operator's password; returns the stored hash. Raises InputError as above."""
    hashed = await gateway.passwords.hash_async(checked("password", registration.password, new))
    await gateway.store.set_operator_password(operator_id, hashed)
    await audit.record(gateway, actor, "operator.password", None, f"operator {operator_id}")
    return hashed
