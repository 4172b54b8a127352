"""Retention on both databases: what is older than the cut-off and final leaves, with its
parts and callbacks; everything else stays; the ledger folds into one carried row per
account and the balance (and the sum of the ledger) is exactly what it was."""

from __future__ import annotations

from datetime import datetime, timedelta

from pilotgate.domain.messages import Status
from pilotgate.storage.base import Handover
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, balance, draft, new_account

OLD = NOW - timedelta(days=400)
CUT = NOW - timedelta(days=365)


async def _ledger_sum(store: Store, account_id: int) -> int:
    return sum(entry.amount for entry in await store.ledger(account_id, None, 10_000))


async def _send(store: Store, account_id: int, outcomes: list[Status], at: datetime) -> list[int]:
    """Messages created at `at` that reach the given final statuses through the queue."""
    ids = (await store.submit(account_id, [draft() for _ in outcomes], at)).server_ids
    await store.claim("w1", at, at + LEASE, 100)
    await store.record_handover(
        "w1",
        [
            Handover(server_id=i, connector="emu", remote_id=f"r{i}", outcome_status=s,
                     outcome_error=0 if s is Status.DELIVERED else 601, outcome_at=at)
            for i, s in zip(ids, outcomes, strict=True)
        ],
        at,
    )  # fmt: skip
    await store.apply_due_outcomes(at + SECOND, 100)
    return ids


async def test_old_final_history_leaves_and_balances_stay_exact(store: Store) -> None:
    account = await new_account(store, balance=100_000)
    other = await new_account(store, "other@example.com", "k2", balance=50_000)
    old = await _send(store, account.id, [Status.DELIVERED, Status.UNDELIVERED], OLD)
    other_old = await _send(store, other.id, [Status.DELIVERED], OLD)
    recent = await _send(store, account.id, [Status.DELIVERED], NOW - SECOND)
    old_queued = (await store.submit(account.id, [draft()], OLD + SECOND)).server_ids
    old_scheduled = (
        await store.submit(
            account.id, [draft(status=Status.SCHEDULED, send_datetime=NOW)], OLD + 2 * SECOND
        )
    ).server_ids
    await store.add_inbound(account.id, "79001234567", "INFORM", "old", OLD)
    new_inbound = await store.add_inbound(account.id, "79001234567", "INFORM", "new", NOW)
    before = {
        a: (await balance(store, a), await _ledger_sum(store, a)) for a in (account.id, other.id)
    }
    assert before[account.id][0] == before[account.id][1]

    pruned = await store.prune(CUT, 1)  # batches of one: the first message, inbound, entry
    assert (pruned.messages, pruned.inbound, pruned.ledger) == (1, 1, 1)
    while await store.prune(CUT, 500):
        pass

    kept = {
        m.server_id
        for m in await store.messages_by_id(
            account.id, [*old, *old_queued, *old_scheduled, *recent]
        )
    }
    assert kept == {*old_queued, *old_scheduled, *recent}
    assert await store.messages_by_id(other.id, other_old) == []
    assert [item.id for item in await store.inbound(account.id)] == [new_inbound]
    after = {
        a: (await balance(store, a), await _ledger_sum(store, a)) for a in (account.id, other.id)
    }
    assert after == before
    entries = await store.ledger(account.id, None, 100)
    carried = [entry for entry in entries if entry.kind == "carried"]
    assert len(carried) == 1
    # The recent debit is still there in detail.
    assert any(entry.created == NOW - SECOND and entry.amount == -150 for entry in entries)
    # Nothing left to do: a second pass removes nothing and changes nothing.
    assert not await store.prune(CUT, 500)
    assert await store.ledger(account.id, None, 100) == entries
