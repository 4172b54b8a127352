"""The storage the dashboard needs, on every backend: operators, lockout counts, the shared
session secret, keyset history with filters, the ledger, callback attempts, sender verdicts
and the per-day statistics kept by the database."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from pilotgate.domain.messages import Message, Status
from pilotgate.domain.senders import SenderState
from pilotgate.errors import ConflictError, NotFoundError
from pilotgate.storage.base import AccountChanges, Handover
from pilotgate.storage.dashboard import HistoryQuery
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, draft, new_account

if TYPE_CHECKING:
    from .conftest import Backend


async def test_operators_passwords_keys_and_the_secret(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    made = await store.add_operator("op@example.com", "h1", NOW)
    assert (await store.operator_by_email("op@example.com")) == made
    with pytest.raises(ConflictError):
        await store.add_operator("op@example.com", "h2", NOW)
    await store.set_operator_password(made.id, "h3")
    operator = await store.operator(made.id)
    assert operator is not None and operator.password_hash == "h3"
    assert await store.operator(made.id + 1) is None
    account = await new_account(store)
    await store.set_account_password(account.id, "new-hash")
    changed = await store.account(account.id)
    assert changed is not None and changed.password_hash == "new-hash"
    with pytest.raises(NotFoundError):
        await store.set_account_password(account.id + 99, "x")
    await store.replace_api_keys(account.id, "k2", NOW)
    assert await store.account_by_key("k1") is None
    by_key = await store.account_by_key("k2")
    assert by_key is not None and by_key.id == account.id
    assert await store.dashboard_secret("first") == "first"
    assert await store.dashboard_secret("second") == "first"


async def test_login_failures_count_within_the_window(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    for minutes in (20, 10, 5):
        await store.record_login_failure("c:a|ip", NOW - timedelta(minutes=minutes))
    await store.record_login_failure("c:b|ip", NOW)
    assert await store.login_failures("c:a|ip", NOW - timedelta(minutes=15)) == 2
    await store.clear_login_failures("c:a|ip")
    assert await store.login_failures("c:a|ip", NOW - timedelta(hours=1)) == 0
    assert await store.login_failures("c:b|ip", NOW - timedelta(hours=1)) == 1


async def _history(store: Store, account_id: int, query: HistoryQuery, limit: int) -> list[Message]:
    found = await store.history(account_id, query, limit, window=1000)
    assert found.searched_to is None
    return found.messages


async def test_history_is_keyset_paged_and_filtered_per_account(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    mine = await new_account(store, balance=100_000)
    other = await new_account(store, "other@example.com", "k9", balance=100_000)
    ids = []
    for day in range(3):
        when = NOW + timedelta(days=day)
        drafts = [
            draft("79001112233", text="alpha"),
            draft("79004445566", text="beta", sender="SHOP"),
        ]
        ids += (await store.submit(mine.id, drafts, when)).server_ids
    await store.submit(other.id, [draft("79001112233", text="alpha")], NOW)
    everything = await _history(store, mine.id, HistoryQuery(), 100)
    assert [m.server_id for m in everything] == sorted(ids, reverse=True)
    page1 = await _history(store, mine.id, HistoryQuery(), 4)
    page2 = await _history(store, mine.id, HistoryQuery(before_id=page1[-1].server_id), 4)
    assert [m.server_id for m in page1 + page2] == sorted(ids, reverse=True)
    phone = await _history(store, mine.id, HistoryQuery(phone="79001112233"), 100)
    assert len(phone) == 3 and {m.account_id for m in phone} == {mine.id}
    assert len(await _history(store, mine.id, HistoryQuery(sender="SHOP"), 100)) == 3
    assert len(await _history(store, mine.id, HistoryQuery(text="lph"), 100)) == 3
    assert len(await _history(store, mine.id, HistoryQuery(status=0), 100)) == 6
    assert await _history(store, mine.id, HistoryQuery(status=2), 100) == []
    assert await _history(store, mine.id, HistoryQuery(channel="viber"), 100) == []
    day2 = HistoryQuery(
        since=NOW + timedelta(days=1) - SECOND, until=NOW + timedelta(days=2) - SECOND
    )
    assert [m.server_id for m in await _history(store, mine.id, day2, 100)] == sorted(
        ids[2:4], reverse=True
    )
    later = HistoryQuery(since=NOW + timedelta(days=10))
    assert await _history(store, mine.id, later, 100) == []
    earlier = HistoryQuery(until=NOW - timedelta(days=10))
    assert await _history(store, mine.id, earlier, 100) == []


async def test_a_text_search_examines_a_window_and_says_where_it_stopped(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    mine = await new_account(store, balance=100_000)
    other = await new_account(store, "other@example.com", "k9", balance=100_000)
    needle = (await store.submit(mine.id, [draft("79001112233", text="needle")], NOW)).server_ids
    hay = (
        await store.submit(mine.id, [draft("79001112233", text="hay")] * 6, NOW + SECOND)
    ).server_ids
    await store.submit(other.id, [draft("79001112233", text="hay")] * 6, NOW + SECOND)
    # Four of the six newer messages are examined: no match, and the page says how far it got.
    found = await store.history(mine.id, HistoryQuery(text="needle"), 10, window=4)
    assert found.messages == [] and found.searched_to == sorted(hay)[2]
    # Searching on from there: the next window reaches the oldest message.
    on = HistoryQuery(text="needle", before_id=found.searched_to)
    older = await store.history(mine.id, on, 10, window=4)
    assert [m.server_id for m in older.messages] == needle and older.searched_to is None
    # A full page needs no bound; a window covering every message says nothing.
    full = await store.history(mine.id, HistoryQuery(text="hay"), 3, window=4)
    assert len(full.messages) == 3 and full.searched_to is None
    wide = await store.history(mine.id, HistoryQuery(text="needle"), 10, window=7)
    assert [m.server_id for m in wide.messages] == needle and wide.searched_to is None
    # The window lies within the dates: none of the six newer messages is in it.
    dated = HistoryQuery(text="needle", until=NOW + SECOND / 2)
    assert [m.server_id for m in (await store.history(mine.id, dated, 10, window=1)).messages] == (
        needle
    )
    # Other filters are not windowed.
    plain = await store.history(mine.id, HistoryQuery(phone="79001112233"), 10, window=1)
    assert len(plain.messages) == 7 and plain.searched_to is None


async def test_sender_and_channel_filters_are_windowed_like_the_text(backend: Backend):
    # Neither has an index: one matching nothing walked the whole account (10⁷ messages:
    # 3 s on PostgreSQL), so a page examines a window of them and offers to search on.
    store = await backend.open()
    await store.upgrade()
    mine = await new_account(store, balance=100_000)
    rare = draft(sender="RARE", channel="viber")
    needle = (await store.submit(mine.id, [rare], NOW)).server_ids
    hay = (await store.submit(mine.id, [draft()] * 6, NOW + SECOND)).server_ids
    for query in (HistoryQuery(sender="RARE"), HistoryQuery(channel="viber")):
        found = await store.history(mine.id, query, 10, window=4)
        assert found.messages == [] and found.searched_to == sorted(hay)[2]
        on = dataclasses.replace(query, before_id=found.searched_to)
        older = await store.history(mine.id, on, 10, window=4)
        assert [m.server_id for m in older.messages] == needle and older.searched_to is None


async def test_ledger_pages_and_sender_verdicts(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    account = await new_account(store, balance=500)
    await store.update_account(account.id, AccountChanges(status_method="post"))
    for amount in (1, 2, 3):
        await store.credit(account.id, amount, "topup", f"n{amount}", NOW)
    rows = await store.ledger(account.id, None, 2)
    assert [r.amount for r in rows] == [3, 2]
    assert [r.amount for r in await store.ledger(account.id, rows[-1].id, 10)] == [1, 500]
    url = await store.add_sender(
        account.id, "SHOP", "d", "https://shop.example/v", SenderState.PENDING, NOW
    )
    mail = await store.add_sender(
        account.id, "MAIL", "d", "me@example.com", SenderState.PENDING, NOW
    )
    assert {s.name for s in await store.all_senders(SenderState.PENDING)} == {"SHOP", "MAIL"}
    done = await store.set_sender_verdict(url.id, SenderState.REJECTED, "bank-like", NOW)
    assert done.state is SenderState.REJECTED
    await store.set_sender_verdict(mail.id, SenderState.APPROVED, "", NOW)
    [job] = await store.claim_callbacks("w", NOW, NOW + LEASE, 10)
    assert (job.kind, job.ref, job.url, job.method) == (
        "sender",
        url.id,
        "https://shop.example/v",
        "post",
    )
    [verdict] = await store.sender_verdicts([url.id])
    assert (verdict.name, verdict.state, verdict.reason) == ("SHOP", "rejected", "bank-like")
    with pytest.raises(NotFoundError):
        await store.set_sender_verdict(99999, SenderState.APPROVED, "", NOW)


async def test_daily_stats_follow_status_changes(backend: Backend):
    store = await backend.open()
    await store.upgrade()
    account = await new_account(store, balance=100_000)
    url = "http://127.0.0.1/cb"
    first = await store.submit(
        account.id,
        [
            draft("79001112233", operator="MTS", callback=url),
            draft("79004445566", operator="Tele2"),
        ],
        NOW,
    )
    await store.submit(account.id, [draft("79001112233", operator="MTS")], NOW + timedelta(days=1))
    claimed = await store.claim("w", NOW, NOW + LEASE, 10)
    assert len(claimed) == 2  # the third is due tomorrow
    outcome = [
        Handover(
            server_id=sid,
            connector="emulator",
            remote_id=str(sid),
            outcome_status=Status.DELIVERED,
            outcome_at=NOW,
        )
        for sid in first.server_ids
    ]
    await store.record_handover("w", outcome, NOW)
    await store.apply_due_outcomes(NOW + SECOND, 10)
    stats = await store.daily_stats(account.id, NOW.date(), NOW.date() + timedelta(days=1))
    table = {(s.day, s.status, s.operator): (s.count, s.spend) for s in stats}
    assert table == {
        (NOW.date(), 2, "MTS"): (1, 150),
        (NOW.date(), 2, "Tele2"): (1, 150),
        (NOW.date() + timedelta(days=1), 0, "MTS"): (1, 150),
    }
    await store.fold_statistics(1000)  # folding the pending changes keeps every figure
    assert await store.daily_stats(account.id, NOW.date(), NOW.date() + timedelta(days=1)) == stats
    attempts = await store.callback_attempts(account.id, first.server_ids[0])
    assert [a.status for a in attempts] == [1, 2]  # one job per status change, in order
    assert all(a.url == url and a.attempts == 0 and a.done_at is None for a in attempts)
    assert await store.callback_attempts(account.id + 1, first.server_ids[0]) == []
    assert (
        await store.daily_stats(
            account.id, NOW.date() + timedelta(days=5), NOW.date() + timedelta(days=6)
        )
        == []
    )
