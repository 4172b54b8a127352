"""Removing old history now, as the workers do by themselves when `retention_days` is set
(docs/retention.md): for an operator freeing space, or before a backup."""

from __future__ import annotations

from datetime import timedelta

from pilotgate.gateway import Gateway
from pilotgate.pipeline.retention import prune
from pilotgate.storage.base import Pruned

from . import audit


async def prune_history(gateway: Gateway, actor: str, days: int) -> Pruned:
    """Remove final messages, inbound messages and ledger detail created more than `days`
    ago (0: everything final up to now). Balances stay exact."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    now = gateway.clock()
    # PostgreSQL: whole partitions first (storage/postgres/partitions.py), then batches.
    removed = await gateway.store.rotate_partitions(now, now - timedelta(days=days))
    removed += await prune(gateway.store, now - timedelta(days=days))
    await audit.record(
        gateway, actor, "retention.prune", None, f"older than {days} days: {removed}"
    )
    return removed


def describe(pruned: Pruned) -> str:
    return (
        f"{pruned.messages} messages, {pruned.inbound} inbound messages, "
        f"{pruned.ledger} ledger entries into carried rows"
    )
