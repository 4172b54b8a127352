"""The storage side of hybrid Viber (VIBERSMS, domain/hybrid.py): whichever way the Viber
attempt fails — a final refusal, a failed receipt, a failed outcome known at hand-over —
the message is queued again as the SMS its plan names, with the same server_id, the price
difference through the ledger; without the money for it, or without a plan, it fails as
usual. Run on every backend."""

from __future__ import annotations

from datetime import timedelta

from pilotgate.domain.hybrid import Fallback
from pilotgate.domain.messages import Status
from pilotgate.domain.receipts import Receipt
from pilotgate.storage.base import Handover, Refusal

from .test_store import LEASE, NOW, SECOND, balance, draft, new_account

PLAN = Fallback(sender="SHOP", parts=2, price=400, route="smsc")


async def _viber(store, *, money=10_000, plan=PLAN, callback=None):
    """One VIBERSMS message at 190, claimed by worker "w"."""
    account = await new_account(store, balance=money)
    (sid,) = (
        await store.submit(
            account.id,
            [
                draft(
                    channel="viber",
                    sender="VIBERSMS",
                    price=190,
                    route="viber1",
                    fallback=plan,
                    callback=callback,
                    callback_method="get" if callback else None,
                )
            ],
            NOW,
        )
    ).server_ids
    assert [m.server_id for m in await store.claim("w", NOW, NOW + LEASE, 10)] == [sid]
    return account, sid


async def _message(store, account, sid):
    (message,) = await store.messages_by_id(account.id, [sid])
    return message


async def _assert_sent_as_sms(store, account, sid, *, money=10_000):
    message = await _message(store, account, sid)
    assert (message.status, message.error, message.channel) == (Status.ACCEPTED, 0, "sms")
    assert (message.sender, message.sender_orig, message.parts) == ("SHOP", "VIBERSMS", 2)
    assert (message.price, message.route) == (400, "smsc")
    assert await balance(store, account.id) == money - 400
    assert await store.ledger_sum(account.id) == money - 400
    # Queued again at once, as an SMS, for its own route.
    (again,) = await store.claim("w2", NOW + SECOND, NOW + SECOND + LEASE, 10, only=["smsc"])
    assert (again.server_id, again.channel) == (sid, "sms")


async def test_a_final_refusal_of_the_viber_leg_sends_it_as_sms(store):
    account, sid = await _viber(store)
    refusal = Refusal(server_id=sid, error=213, final=True, retry_at=NOW)
    assert await store.refuse("w", [refusal], NOW) == 1
    await _assert_sent_as_sms(store, account, sid)


async def test_a_failed_viber_receipt_sends_it_as_sms_and_forgets_the_viber_part(store):
    account, sid = await _viber(store)
    handed = Handover(server_id=sid, connector="viber1", remote_id="v1")
    assert await store.record_handover("w", [handed], NOW) == 1
    failed = Receipt(remote_id="v1", status=Status.UNDELIVERED, error=605)
    assert await store.record_receipts("viber1", [failed], NOW + SECOND) == 1
    await _assert_sent_as_sms(store, account, sid)
    # The SMS leg settles on its own parts alone.
    sms = Handover(server_id=sid, connector="smsc", remote_id="s1")
    assert await store.record_handover("w2", [sms], NOW + 2 * SECOND) == 1
    done = Receipt(remote_id="s1", status=Status.DELIVERED)
    assert await store.record_receipts("smsc", [done], NOW + 3 * SECOND) == 1
    message = await _message(store, account, sid)
    assert (message.status, message.sender_orig) == (Status.DELIVERED, "VIBERSMS")


async def test_a_failed_outcome_known_at_handover_sends_it_as_sms(store):
    account, sid = await _viber(store)
    handed = Handover(
        server_id=sid,
        connector="viber1",
        remote_id="emu",
        outcome_status=Status.UNDELIVERED,
        outcome_error=605,
        outcome_at=NOW + SECOND,
    )
    assert await store.record_handover("w", [handed], NOW) == 1
    assert await store.apply_due_outcomes(NOW, 10) == 0  # not due yet
    assert await store.apply_due_outcomes(NOW + SECOND, 10) == 1
    await _assert_sent_as_sms(store, account, sid)


async def test_a_delivered_viber_message_keeps_its_viber_price(store):
    account, sid = await _viber(store)
    handed = Handover(server_id=sid, connector="viber1", remote_id="v2")
    await store.record_handover("w", [handed], NOW)
    ok = Receipt(remote_id="v2", status=Status.DELIVERED)
    assert await store.record_receipts("viber1", [ok], NOW) == 1
    message = await _message(store, account, sid)
    assert (message.status, message.channel, message.price) == (Status.DELIVERED, "viber", 190)
    assert await balance(store, account.id) == 10_000 - 190


async def test_without_money_for_the_difference_the_viber_failure_stands(store):
    account, sid = await _viber(store, money=300)  # 110 left after 190; the SMS needs 210 more
    handed = Handover(server_id=sid, connector="viber1", remote_id="v3")
    await store.record_handover("w", [handed], NOW)
    failed = Receipt(remote_id="v3", status=Status.UNDELIVERED, error=605)
    assert await store.record_receipts("viber1", [failed], NOW) == 1
    message = await _message(store, account, sid)
    assert (message.status, message.error, message.channel) == (Status.UNDELIVERED, 605, "viber")
    assert await balance(store, account.id) == 110 == await store.ledger_sum(account.id)


async def test_a_cheaper_sms_gives_the_difference_back(store):
    account, sid = await _viber(store, plan=Fallback(sender="S", parts=1, price=90, route="x"))
    refusal = Refusal(server_id=sid, error=605, final=True, retry_at=NOW)
    assert await store.refuse("w", [refusal], NOW) == 1
    assert await balance(store, account.id) == 10_000 - 90 == await store.ledger_sum(account.id)


async def test_plain_viber_never_falls_back(store):
    account, sid = await _viber(store, plan=None)
    refusal = Refusal(server_id=sid, error=605, final=True, retry_at=NOW)
    assert await store.refuse("w", [refusal], NOW) == 1
    message = await _message(store, account, sid)
    assert (message.status, message.error) == (Status.ERROR, 605)
    assert await balance(store, account.id) == 10_000  # an error is not charged


async def test_our_own_expiry_never_falls_back(store):
    account = await new_account(store, balance=10_000)
    (sid,) = (
        await store.submit(
            account.id,
            [draft(channel="viber", price=190, fallback=PLAN, expires_at=NOW + SECOND)],
            NOW,
        )
    ).server_ids
    assert await store.expire(NOW + 2 * SECOND, 10) == 1
    message = await _message(store, account, sid)
    assert (message.status, message.error, message.channel) == (Status.UNDELIVERED, 600, "viber")


async def test_the_requeue_reports_no_status_of_its_own(store):
    _, sid = await _viber(store, callback="https://example.com/status")
    handed = Handover(server_id=sid, connector="viber1", remote_id="v4")
    await store.record_handover("w", [handed], NOW)
    failed = Receipt(remote_id="v4", status=Status.UNDELIVERED, error=605)
    await store.record_receipts("viber1", [failed], NOW)
    jobs = await store.claim_callbacks("cb", NOW + timedelta(hours=1), NOW + LEASE * 100, 10)
    # Only "handed over" so far: the 1 → 0 of the fallback is not reported.
    assert [(job.ref, job.status) for job in jobs] == [(sid, 1)]


async def test_the_statistics_follow_the_fallback_price(store):
    account, sid = await _viber(store)
    refusal = Refusal(server_id=sid, error=213, final=True, retry_at=NOW)
    assert await store.refuse("w", [refusal], NOW) == 1  # stays 0, at the SMS price
    await store.fold_statistics(100)
    day = NOW.date()
    stats = await store.daily_stats(account.id, day, day)
    assert [(s.status, s.count, s.spend) for s in stats if s.count] == [(0, 1, 400)]
