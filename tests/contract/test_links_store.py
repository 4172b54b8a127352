"""The storage side of long-lived links: refusals (final ones give the money back), part
receipts matched to messages (all parts delivered → 2, one part failed → -1; early receipts
kept until their hand-over is recorded; duplicates change nothing), inbound numbers, link
leases and the claim filter by route. Run on every backend."""

from __future__ import annotations

from pilotgate.domain.messages import Status
from pilotgate.domain.receipts import Receipt
from pilotgate.storage.base import Handover, Refusal

from .test_store import LEASE, NOW, SECOND, balance, draft, new_account, run_all, statuses


async def _accepted(store, *phones, **changes):
    account = await new_account(store, balance=10_000)
    submitted = await store.submit(account.id, [draft(p, **changes) for p in phones], NOW)
    claimed = await store.claim("w", NOW, NOW + LEASE, 100)
    assert [m.server_id for m in claimed] == submitted.server_ids
    return account, submitted.server_ids


async def _hand(store, server_id, *remote_ids, connector="smsc"):
    handed = await store.record_handover(
        "w",
        [
            Handover(
                server_id=server_id,
                connector=connector,
                remote_id=remote_ids[0],
                remote_ids=remote_ids,
            )
        ],
        NOW,
    )
    assert handed == 1


async def test_a_final_refusal_ends_the_message_uncharged(store):
    account, (sid,) = await _accepted(store, "79001234567")
    assert await balance(store, account.id) == 10_000 - 150
    refusal = Refusal(server_id=sid, error=221, final=True, retry_at=NOW)
    assert await store.refuse("w", [refusal], NOW) == 1
    assert await statuses(store, account.id, [sid]) == {sid: Status.ERROR}
    (message,) = await store.messages_by_id(account.id, [sid])
    assert message.error == 221
    assert await balance(store, account.id) == 10_000
    assert await store.ledger_sum(account.id) == 10_000
    # Applying it again (a retried round) changes nothing and refunds nothing twice.
    assert await store.refuse("w", [refusal], NOW) == 0
    assert await balance(store, account.id) == 10_000


async def test_a_temporary_refusal_requeues_the_message_for_later(store):
    account, (sid,) = await _accepted(store, "79001234567")
    refusal = Refusal(server_id=sid, error=0, final=False, retry_at=NOW + 5 * SECOND)
    assert await store.refuse("w", [refusal], NOW) == 1
    assert await store.claim("w2", NOW + SECOND, NOW + LEASE, 10) == []  # not yet due
    again = await store.claim("w2", NOW + 5 * SECOND, NOW + LEASE, 10)
    assert [m.server_id for m in again] == [sid]
    assert await balance(store, account.id) == 10_000 - 150  # still charged: still queued


async def test_receipts_of_every_part_deliver_a_multipart_message(store):
    account, (sid,) = await _accepted(store, "79001234567", parts=2)
    await _hand(store, sid, "a1", "a2")
    receipt = Receipt(remote_id="a1", status=Status.DELIVERED)
    assert await store.record_receipts("smsc", [receipt], NOW) == 1
    assert await statuses(store, account.id, [sid]) == {sid: Status.HANDED_OVER}
    assert await store.record_receipts("smsc", [receipt], NOW) == 1  # a duplicate: no change
    assert await statuses(store, account.id, [sid]) == {sid: Status.HANDED_OVER}
    done = Receipt(remote_id="a2", status=Status.DELIVERED)
    assert await store.record_receipts("smsc", [done], NOW + SECOND) == 1
    assert await statuses(store, account.id, [sid]) == {sid: Status.DELIVERED}


async def test_one_failed_part_fails_the_message_with_its_error(store):
    account, (sid,) = await _accepted(store, "79001234567", parts=3)
    await _hand(store, sid, "b1", "b2", "b3")
    await store.record_receipts(
        "smsc",
        [
            Receipt(remote_id="b1", status=Status.DELIVERED),
            Receipt(remote_id="b2", status=Status.UNDELIVERED, error=601),
        ],
        NOW,
    )
    (message,) = await store.messages_by_id(account.id, [sid])
    assert (message.status, message.error) == (Status.UNDELIVERED, 601)
    # The last part's delivery later does not turn a final status around.
    await store.record_receipts("smsc", [Receipt(remote_id="b3", status=Status.DELIVERED)], NOW)
    assert await statuses(store, account.id, [sid]) == {sid: Status.UNDELIVERED}


async def test_a_receipt_before_its_handover_is_kept_and_applied(store):
    account, (sid,) = await _accepted(store, "79001234567")
    early = Receipt(remote_id="c1", status=Status.DELIVERED)
    assert await store.record_receipts("smsc", [early], NOW) == 0
    await _hand(store, sid, "c1")
    assert await statuses(store, account.id, [sid]) == {sid: Status.DELIVERED}


async def test_receipt_ids_are_per_connector_and_unknown_ones_are_purged(store):
    account, (sid,) = await _accepted(store, "79001234567")
    await _hand(store, sid, "d1", connector="one")
    other = Receipt(remote_id="d1", status=Status.DELIVERED)
    assert await store.record_receipts("two", [other], NOW) == 0
    assert await statuses(store, account.id, [sid]) == {sid: Status.HANDED_OVER}
    assert await store.purge_early_receipts(NOW + SECOND) == 1
    assert await store.purge_early_receipts(NOW + SECOND) == 0


async def test_numbers_name_the_account_inbound_sms_belong_to(store):
    account = await new_account(store)
    assert await store.number_owner("79990000001") is None
    await store.save_number("79990000001", account.id, NOW)
    assert await store.number_owner("79990000001") == account.id


async def test_one_process_holds_a_link_until_its_lease_runs_out(store):
    assert await store.hold_link("smsc", "p1", NOW, NOW + 15 * SECOND)
    assert not await store.hold_link("smsc", "p2", NOW + SECOND, NOW + 16 * SECOND)
    assert await store.hold_link("smsc", "p1", NOW + 5 * SECOND, NOW + 20 * SECOND)  # renew
    assert not await store.hold_link("smsc", "p2", NOW + 19 * SECOND, NOW + 30 * SECOND)
    assert await store.hold_link("smsc", "p2", NOW + 21 * SECOND, NOW + 36 * SECOND)
    (lease,) = await store.link_leases()
    assert (lease.name, lease.owner) == ("smsc", "p2")
    await store.release_link("smsc", "p1")  # not p1's any more: nothing happens
    assert [x.owner for x in await store.link_leases()] == ["p2"]
    await store.release_link("smsc", "p2")
    assert await store.link_leases() == []


async def test_claim_can_be_limited_to_the_connectors_a_process_holds(store):
    account = await new_account(store, balance=10_000)
    submitted = await store.submit(
        account.id,
        [draft(route="smsc1,smsc2"), draft(route="smsc2"), draft(route="")],
        NOW,
    )
    first, second, old = submitted.server_ids
    claimed = await store.claim("w", NOW, NOW + LEASE, 10, only=["smsc1"])
    assert [m.server_id for m in claimed] == [first]
    claimed = await store.claim("w", NOW, NOW + LEASE, 10, only=["emulator", "smsc2"])
    assert [m.server_id for m in claimed] == [second, old]
    assert await store.claim("w", NOW, NOW + LEASE, 10, only=[]) == []


async def test_a_receipt_racing_its_handover_from_another_process_is_never_lost(backend):
    # Two processes: the link holder records the hand-over while (on another connection)
    # the receipt for it is being recorded. Whatever the interleaving, the message ends
    # delivered: the receipt either finds the part or is found by the hand-over.
    holder, reader = await backend.open(), await backend.open()
    await holder.upgrade()
    account = await new_account(holder, balance=1_000_000)
    rounds = 40
    submitted = await holder.submit(account.id, [draft(route="smsc")] * rounds, NOW)
    claimed = await holder.claim("w", NOW, NOW + LEASE, rounds)
    assert len(claimed) == rounds
    for sid in submitted.server_ids:
        receipt = Receipt(remote_id=f"race-{sid}", status=Status.DELIVERED)
        await run_all(
            [
                holder.record_handover(
                    "w",
                    [Handover(server_id=sid, connector="smsc", remote_id=f"race-{sid}")],
                    NOW,
                ),
                reader.record_receipts("smsc", [receipt], NOW),
            ]
        )
    final = await statuses(holder, account.id, submitted.server_ids)
    assert set(final.values()) == {Status.DELIVERED}
