"""The storage side of callbacks and expiry: every status change of a message with a callback
URL (its own or the account's) leaves a job in the same transaction; jobs of one message are
handed out in order; expiry moves unfinished messages to -1/600. Run on every backend."""

from __future__ import annotations

from pilotgate.domain.messages import Status
from pilotgate.storage.base import AccountChanges, CallbackResult, Handover

from .test_store import LEASE, NOW, SECOND, draft, new_account


async def _handover(store, ids, outcome=Status.DELIVERED, error=0, at=NOW):
    claimed = await store.claim("w", at, at + LEASE, 100)
    assert {m.server_id for m in claimed} >= set(ids)
    await store.record_handover(
        "w",
        [
            Handover(
                server_id=i,
                connector="emulator",
                remote_id=f"r{i}",
                outcome_status=outcome,
                outcome_error=error,
                outcome_at=at + SECOND,
            )
            for i in ids
        ],
        at,
    )


async def test_status_changes_write_jobs_for_the_messages_callback(store):
    account = await new_account(store, balance=10_000)
    submitted = await store.submit(
        account.id,
        [
            draft(callback="http://a.example/cb?fields=all", callback_method="post"),
            draft("79001234568"),
        ],
        NOW,
    )
    first, second = submitted.server_ids
    assert await store.claim_callbacks("c", NOW, NOW + LEASE, 10) == []  # acceptance: no call
    await _handover(store, [first, second], Status.UNDELIVERED, 601)
    await store.apply_due_outcomes(NOW + 2 * SECOND, 100)
    jobs = await store.claim_callbacks("c", NOW + 3 * SECOND, NOW + LEASE, 10)
    # Only the message with a URL has jobs; the second job waits for the first.
    assert [(j.ref, j.status, j.url, j.method) for j in jobs] == [
        (first, 1, "http://a.example/cb?fields=all", "post")
    ]
    assert (
        await store.finish_callbacks(
            "c", [CallbackResult(job_id=jobs[0].id, acknowledged=True)], NOW + 3 * SECOND
        )
        == 1
    )
    (job,) = await store.claim_callbacks("c", NOW + 3 * SECOND, NOW + LEASE, 10)
    assert (job.ref, job.status, job.error) == (first, -1, 601)
    assert await store.callback_backlog(NOW + 3 * SECOND) == (1, 1)


async def test_retry_schedule(store):
    account = await new_account(store, balance=10_000)
    # The gateway fixes the account's default URL into the message when it is sent.
    (server_id,) = (
        await store.submit(
            account.id, [draft(callback="http://b.example/s", callback_method="get")], NOW
        )
    ).server_ids
    await _handover(store, [server_id])
    (job,) = await store.claim_callbacks("c", NOW, NOW + LEASE, 10)
    assert (job.url, job.method, job.status) == ("http://b.example/s", "get", 1)
    # A failed attempt comes back only at its retry time, and to one claimer at a time.
    retry = NOW + 10 * SECOND
    await store.finish_callbacks(
        "c",
        [CallbackResult(job_id=job.id, acknowledged=False, error="HTTP 500", retry_at=retry)],
        NOW,
    )
    assert await store.claim_callbacks("c", NOW + SECOND, NOW + LEASE, 10) == []
    (again,) = await store.claim_callbacks("c", retry, retry + LEASE, 10)
    assert again.attempts == 1
    assert await store.claim_callbacks("other", retry, retry + LEASE, 10) == []
    # A worker that does not hold the lease cannot record the result.
    assert (
        await store.finish_callbacks(
            "other", [CallbackResult(job_id=again.id, acknowledged=True)], retry
        )
        == 0
    )
    # Giving up (no retry time) finishes the job, so the next one of the message may go.
    await store.finish_callbacks(
        "c", [CallbackResult(job_id=again.id, acknowledged=False, error="gave up")], retry
    )
    assert await store.callback_backlog(retry) == (0, 0)


async def test_a_batch_of_results_mixes_acknowledgements_and_retries(store):
    account = await new_account(store, balance=10_000)
    ids = (
        await store.submit(
            account.id,
            [draft(f"7900123456{i}", callback="http://c.example/s") for i in range(3)],
            NOW,
        )
    ).server_ids
    await _handover(store, ids)
    jobs = await store.claim_callbacks("c", NOW, NOW + LEASE, 10)
    assert [j.ref for j in jobs] == list(ids)
    retry = NOW + 10 * SECOND
    results = [
        CallbackResult(job_id=jobs[0].id, acknowledged=True),
        CallbackResult(job_id=jobs[1].id, acknowledged=False, error="HTTP 500", retry_at=retry),
        CallbackResult(job_id=jobs[2].id, acknowledged=True),
    ]
    # Another worker's results change nothing; the holder's are all recorded at once.
    assert await store.finish_callbacks("other", results, NOW) == 0
    assert await store.finish_callbacks("c", results, NOW) == 3
    assert await store.finish_callbacks("c", results, NOW) == 0  # leases given back
    # The two acknowledged jobs are done; only the retried one is left, due at its time.
    assert await store.callback_backlog(NOW + SECOND) == (1, 0)
    (again,) = await store.claim_callbacks("c", retry, retry + LEASE, 10)
    assert (again.ref, again.attempts) == (ids[1], 1)


async def test_inbound_is_pushed_to_the_inbound_url(store):
    account = await new_account(store, balance=100)
    await store.add_inbound(account.id, "79001234567", "79021121075", "no url yet", NOW)
    assert await store.claim_callbacks("c", NOW, NOW + LEASE, 10) == []
    await store.update_account(account.id, AccountChanges(inbound_url="http://c.example/in"))
    inbound_id = await store.add_inbound(account.id, "79001234567", "79021121075", "hi", NOW)
    (job,) = await store.claim_callbacks("c", NOW, NOW + LEASE, 10)
    assert (job.kind, job.ref, job.url) == ("inbound", inbound_id, "http://c.example/in")
    (item,) = await store.inbound_by_ids([inbound_id])
    assert item.text == "hi"


async def test_expiry_moves_unfinished_messages_to_600_once(store):
    account = await new_account(store, balance=10_000)
    cb = {"callback": "http://b.example/s"}
    ids = (
        await store.submit(
            account.id,
            [
                draft(expires_at=NOW + 5 * SECOND, **cb),
                draft("79001234568", expires_at=NOW + 50 * SECOND, **cb),
                draft(
                    "79001234569",
                    status=Status.SCHEDULED,
                    send_datetime=NOW + 60 * SECOND,
                    expires_at=NOW + 5 * SECOND,
                    **cb,
                ),
            ],
            NOW,
        )
    ).server_ids
    assert await store.expire(NOW + 4 * SECOND, 100) == 0
    assert await store.expire(NOW + 6 * SECOND, 100) == 2
    assert await store.expire(NOW + 7 * SECOND, 100) == 0
    found = {m.server_id: (m.status, m.error) for m in await store.messages_by_ids(ids)}
    assert found == {ids[0]: (-1, 600), ids[1]: (0, 0), ids[2]: (-1, 600)}
    # An expired message is never claimed, and its expiry was reported by callback.
    claimed = await store.claim("w", NOW + 7 * SECOND, NOW + LEASE, 100)
    assert [m.server_id for m in claimed] == [ids[1]]
    jobs = await store.claim_callbacks("c", NOW + 7 * SECOND, NOW + LEASE, 10)
    assert sorted((j.ref, j.status, j.error) for j in jobs) == [
        (ids[0], -1, 600),
        (ids[2], -1, 600),
    ]
