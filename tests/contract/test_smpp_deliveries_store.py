"""The deliver_sm owed to SMPP binds, on every backend: a final status of a message whose
submit_sm asked for a receipt, and an inbound SMS of an account with SMPP credentials and no
inbound URL, each leave one row in the same transaction; rows are claimed with a lease (one
holder at a time), deleted when answered, given back with a due time, dropped when stale."""

from __future__ import annotations

import asyncio

from pilotgate.domain.messages import Status
from pilotgate.storage.base import AccountChanges, Handover

from .test_store import LEASE, NOW, SECOND, draft, new_account

LATER = NOW + 3 * SECOND


async def _final(store, account_id, outcomes):
    """Submit one message per (phone, smpp_receipt, status, error), hand them all over and
    apply their outcomes; the server_ids in order."""
    drafts = [draft(phone, smpp_receipt=wanted) for phone, wanted, _, _ in outcomes]
    ids = (await store.submit(account_id, drafts, NOW)).server_ids
    assert {m.server_id for m in await store.claim("w", NOW, NOW + LEASE, 100)} == set(ids)
    handovers = [
        Handover(
            server_id=server_id,
            connector="emulator",
            remote_id=f"r{server_id}",
            outcome_status=status,
            outcome_error=error,
            outcome_at=NOW + SECOND,
        )
        for server_id, (_, _, status, error) in zip(ids, outcomes, strict=True)
    ]
    await store.record_handover("w", handovers, NOW)
    await store.apply_due_outcomes(NOW + 2 * SECOND, 100)
    return ids


async def test_final_statuses_leave_the_receipts_registered_delivery_asked_for(store):
    account = await new_account(store, balance=100_000)
    ids = await _final(
        store,
        account.id,
        [
            ("79001234561", 1, Status.DELIVERED, 0),  # any final: yes
            ("79001234562", 1, Status.UNDELIVERED, 601),  # any final: yes
            ("79001234563", 2, Status.DELIVERED, 0),  # failures only: no
            ("79001234564", 2, Status.UNDELIVERED, 600),  # failures only: yes
            ("79001234565", 0, Status.UNDELIVERED, 601),  # none asked
            ("79001234566", 3, Status.DELIVERED, 0),  # delivery only: yes
        ],
    )
    owed = await store.claim_smpp_deliveries(account.id, "b1", LATER, LATER + LEASE, 10)
    # In the order the statuses were recorded; compared by message here. One submit of six
    # (a submit_multi's packet): each receipt carries the packet's id, its first message's,
    # from its own phone (docs/decisions.md "One id for a submit_multi").
    assert sorted((o.kind, o.ref, o.source, o.status, o.error) for o in owed) == [
        ("receipt", ids[0], "79001234561", 2, 0),
        ("receipt", ids[0], "79001234562", -1, 601),
        ("receipt", ids[0], "79001234564", -1, 600),
        ("receipt", ids[0], "79001234566", 2, 0),
    ]
    first = next(o for o in owed if o.source == "79001234561")
    assert (first.destination, first.text) == ("INFORM", "Привет, PilotGate")
    assert first.submitted == NOW and first.done >= NOW
    assert await store.smpp_deliveries_waiting() == {account.id: 4}


async def test_a_lease_holds_a_row_for_one_bind_until_it_runs_out(store):
    account = await new_account(store, balance=100_000)
    await _final(store, account.id, [("79001234561", 1, Status.DELIVERED, 0)])
    (first,) = await store.claim_smpp_deliveries(account.id, "b1", LATER, LATER + LEASE, 10)
    assert await store.claim_smpp_deliveries(account.id, "b2", LATER, LATER + LEASE, 10) == []
    # Not the holder: nothing happens.
    assert await store.finish_smpp_deliveries("b2", [first.id]) == 0
    # The holder died: after its lease any bind of the account takes the row.
    expired = LATER + LEASE + SECOND
    (again,) = await store.claim_smpp_deliveries(account.id, "b2", expired, expired + LEASE, 10)
    assert again.id == first.id
    assert await store.finish_smpp_deliveries("b1", [first.id]) == 0
    assert await store.finish_smpp_deliveries("b2", [first.id]) == 1
    assert await store.smpp_deliveries_waiting() == {}


async def test_a_refused_row_comes_back_at_its_due_time_with_one_attempt_more(store):
    account = await new_account(store, balance=100_000)
    other = await new_account(store, "other@example.com", "k2", balance=100_000)
    await _final(store, account.id, [("79001234561", 1, Status.DELIVERED, 0)])
    (owed,) = await store.claim_smpp_deliveries(account.id, "b1", LATER, LATER + LEASE, 10)
    due = LATER + 10 * SECOND
    assert await store.retry_smpp_deliveries("b1", [owed.id], due, "status 0x08") == 1
    assert await store.claim_smpp_deliveries(account.id, "b1", LATER, LATER + LEASE, 10) == []
    # Another account's binds never see it.
    assert await store.claim_smpp_deliveries(other.id, "b3", due, due + LEASE, 10) == []
    (again,) = await store.claim_smpp_deliveries(account.id, "b2", due, due + LEASE, 10)
    assert (again.id, again.attempts) == (owed.id, 1)


async def test_stale_rows_are_dropped_and_counted(store):
    account = await new_account(store, balance=100_000)
    await _final(store, account.id, [("79001234561", 1, Status.DELIVERED, 0)])
    assert await store.drop_smpp_deliveries(NOW) == 0
    assert await store.drop_smpp_deliveries(NOW + 3600 * SECOND) == 1
    assert await store.smpp_deliveries_waiting() == {}


async def test_inbound_sms_go_to_smpp_unless_the_account_chose_an_inbound_url(store):
    smpp = await new_account(store)
    http = await new_account(store, "http@example.com", "k2")
    neither = await new_account(store, "none@example.com", "k3")
    await store.set_smpp_credentials(smpp.id, "shop", "hash", NOW)
    await store.set_smpp_credentials(http.id, "shop2", "hash", NOW)
    await store.update_account(http.id, AccountChanges(inbound_url="http://a.example/in"))
    ids = {
        account.id: await store.add_inbound(account.id, "79001112233", "79990000001", "Да", NOW)
        for account in (smpp, http, neither)
    }
    (owed,) = await store.claim_smpp_deliveries(smpp.id, "b1", NOW, NOW + LEASE, 10)
    assert (owed.kind, owed.ref, owed.source, owed.destination, owed.text) == (
        "inbound",
        ids[smpp.id],
        "79001112233",
        "79990000001",
        "Да",
    )
    for account in (http, neither):
        assert await store.claim_smpp_deliveries(account.id, "b1", NOW, NOW + LEASE, 10) == []


async def test_concurrent_claims_share_the_rows_without_overlap(store):
    account = await new_account(store, balance=100_000)
    phones = [(f"7900123456{n}", 1, Status.DELIVERED, 0) for n in range(8)]
    await _final(store, account.id, phones)
    claims = await asyncio.gather(
        *(
            store.claim_smpp_deliveries(account.id, f"b{n}", LATER, LATER + LEASE, 3)
            for n in range(4)
        )
    )
    taken = [owed.id for claim in claims for owed in claim]
    assert len(taken) == len(set(taken)) == 8
