"""Console operators: made from the machine (`pilotgate operator add`), never from the
console itself, so that a stolen console session cannot make itself another operator. The
same rules as customers' accounts: the e-mail trimmed and lower-cased, one password rule
(domain.registration), and each change in the audit trail (never the password nor its hash)."""

from __future__ import annotations

from pilotgate.domain import registration
from pilotgate.errors import ConflictError
from pilotgate.gateway import Gateway
from pilotgate.storage.dashboard import Operator

from . import audit
from .accounts import checked


async def add(gateway: Gateway, actor: str, email: str, password: str) -> tuple[Operator, bool]:
    """Create an operator, or give the one with this e-mail a new password; the operator and
    whether it is new. Raises InputError for an e-mail or password breaking the rules."""
    address = checked("email", registration.email, email)
    hashed = await gateway.passwords.hash_async(
        checked("password", registration.password, password)
    )
    try:
        created = await gateway.store.add_operator(address, hashed, gateway.clock())
    except ConflictError:
        existing = await gateway.store.operator_by_email(address)
        assert existing is not None  # the conflict was this e-mail
        await gateway.store.set_operator_password(existing.id, hashed)
        await audit.record(gateway, actor, "operator.password", None, f"operator {existing.id}")
        return existing, False
    await audit.record(gateway, actor, "operator.add", None, f"operator {created.id} {address}")
    return created, True
