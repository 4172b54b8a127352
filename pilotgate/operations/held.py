"""The operator's word on messages held as suspected SMS pumping (contract §17.6,
domain/pumping.py): list the held batches (one an account), release one (its messages are
charged then and queued) or reject it (-2 with error 223, never charged, so the balance is
as before the send). The CLI (`pilotgate held`) and the console's Held page call these;
every release and reject is in the audit trail (`held.release`, `held.reject`)."""

from __future__ import annotations

from pilotgate.domain import limits, money
from pilotgate.errors import InputError, InsufficientFundsError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import HeldBatch, Settled

from . import audit

#: The error a rejected held message ends with: "Spam protection" (contract §16).
REJECTED = limits.CAP_REACHED


async def batches(gateway: Gateway) -> list[HeldBatch]:
    """Every account's held messages, in account order."""
    return await gateway.store.held_batches()


async def release(
    gateway: Gateway, actor: str, account_id: int, message_id: int | None = None
) -> Settled:
    """Charge and send the account's held messages (or the one `message_id`). Raises
    InputError when its balance does not cover them (nothing changes: top it up first)."""
    try:
        settled = await gateway.store.release_held(account_id, message_id, gateway.clock())
    except InsufficientFundsError:
        raise InputError("account", "its balance does not cover the held messages") from None
    if settled.messages:
        await audit.record(gateway, actor, "held.release", account_id, _detail(settled, message_id))
    return settled


async def reject(
    gateway: Gateway, actor: str, account_id: int, message_id: int | None = None
) -> Settled:
    """End the account's held messages (or the one) as -2 with error 223."""
    settled = await gateway.store.reject_held(account_id, message_id, REJECTED, gateway.clock())
    if settled.messages:
        await audit.record(gateway, actor, "held.reject", account_id, _detail(settled, message_id))
    return settled


def _detail(settled: Settled, message_id: int | None) -> str:
    which = "" if message_id is None else f" id={message_id}"
    return f"messages={settled.messages} charged={money.format(settled.amount)}{which}"
