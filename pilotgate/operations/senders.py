"""Sender names: the operator adds one to an account, approves or rejects a pending one (the
verdict reaches the name's callback URL, if any, through the store's callback job)."""

from __future__ import annotations

from pilotgate.domain import senders as sender_rules
from pilotgate.domain.senders import SenderState
from pilotgate.errors import InputError
from pilotgate.gateway import Gateway
from pilotgate.storage.base import Sender

from . import audit

#: Longest reason for a rejection kept (it travels in the verdict's callback).
REASON_LENGTH = 500


async def add(
    gateway: Gateway,
    actor: str,
    account_id: int,
    name: str,
    *,
    description: str = "",
    approve: bool = False,
) -> Sender:
    """Raises InputError for a malformed name, ConflictError when the account has it."""
    name = name.strip()
    if not sender_rules.is_valid(name):
        raise InputError("name", "not a sender name (3-11 letters, digits, '.', '-', or a number)")
    state = SenderState.APPROVED if approve else SenderState.PENDING
    added = await gateway.store.add_sender(
        account_id, name, description.strip(), "", state, gateway.clock()
    )
    await audit.record(gateway, actor, "sender.add", account_id, f"{added.name} {state.value}")
    return added


async def approve(gateway: Gateway, actor: str, sender_id: int) -> Sender:
    return await _verdict(gateway, actor, sender_id, SenderState.APPROVED, "")


async def reject(gateway: Gateway, actor: str, sender_id: int, reason: str = "") -> Sender:
    return await _verdict(gateway, actor, sender_id, SenderState.REJECTED, reason)


async def _verdict(
    gateway: Gateway, actor: str, sender_id: int, verdict: SenderState, reason: str
) -> Sender:
    """Raises NotFoundError for an unknown sender id."""
    reason = reason.strip()[:REASON_LENGTH]
    changed = await gateway.store.set_sender_verdict(sender_id, verdict, reason, gateway.clock())
    detail = f"{changed.name} {verdict.value}" + (f": {reason}" if reason else "")
    await audit.record(gateway, actor, f"sender.{verdict.value}", changed.account_id, detail)
    return changed


# queries -------------------------------------------------------------------------------------
async def of_account(gateway: Gateway, account_id: int) -> list[Sender]:
    return await gateway.store.senders(account_id)


async def listing(gateway: Gateway, state: SenderState | None) -> list[Sender]:
    """Every account's names (in `state`), oldest first: the console's approval queue."""
    return await gateway.store.all_senders(state)
