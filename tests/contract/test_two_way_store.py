"""The storage side of two-way SMS (`from=2WAY`, contract §13.5): the number pool, the open
conversations a phone has on pool numbers, and the 2WAY message a reply answers (the newest
from that number to that phone within the window, of any account, refused ones excepted).
Run on every backend."""

from __future__ import annotations

from pilotgate.domain.messages import Status
from pilotgate.storage.base import PoolNumber, TwoWayMatch

from .test_store import NOW, SECOND, draft, new_account

HOUR = 3600 * SECOND


def two_way(phone: str, number: str, **changes):
    return draft(phone, sender=number, sender_orig="2WAY", **changes)


async def test_the_pool_is_saved_moved_listed_and_removed(store):
    assert await store.pool_numbers() == []
    await store.save_pool_number("79000000002", "")
    await store.save_pool_number("79000000001", "7916")
    await store.save_pool_number("79000000002", "7")  # moved to another prefix
    assert await store.pool_numbers() == [
        PoolNumber(number="79000000001", prefix="7916"),
        PoolNumber(number="79000000002", prefix="7"),
    ]
    assert await store.remove_pool_number("79000000001") is True
    assert await store.remove_pool_number("79000000001") is False
    assert [p.number for p in await store.pool_numbers()] == ["79000000002"]


async def test_a_reply_matches_the_newest_2way_message_from_that_number_to_that_phone(store):
    await store.save_pool_number("79000000001", "")
    await store.save_pool_number("79000000002", "")
    first = await new_account(store, "a@example.com", "ka", balance=10_000)
    second = await new_account(store, "b@example.com", "kb", balance=10_000)
    (old,) = (await store.submit(first.id, [two_way("79161111111", "79000000001")], NOW)).server_ids
    later = NOW + HOUR
    (new,) = (
        await store.submit(second.id, [two_way("79161111111", "79000000001")], later)
    ).server_ids
    (other,) = (
        await store.submit(first.id, [two_way("79162222222", "79000000002")], later)
    ).server_ids
    # A plain message from the same sender string is no conversation.
    await store.submit(first.id, [draft("79163333333", sender="79000000001")], later)

    since = NOW - HOUR
    assert await store.two_way_match("79000000001", "79161111111", since) == TwoWayMatch(
        server_id=new, account_id=second.id
    )
    assert await store.two_way_match("79000000002", "79162222222", since) == TwoWayMatch(
        server_id=other, account_id=first.id
    )
    assert old != new
    # Wrong pairing, a plain message, or outside the window: nothing.
    assert await store.two_way_match("79000000002", "79161111111", since) is None
    assert await store.two_way_match("79000000001", "79163333333", since) is None
    assert await store.two_way_match("79000000001", "79161111111", later + SECOND) is None


async def test_a_refused_2way_message_is_no_conversation(store):
    await store.save_pool_number("79000000001", "")
    account = await new_account(store, balance=10_000)
    await store.submit(
        account.id,
        [two_way("79161111111", "79000000001", status=Status.ERROR, error=212, price=0)],
        NOW,
    )
    assert await store.two_way_match("79000000001", "79161111111", NOW - HOUR) is None
    assert await store.two_way_open(["79161111111"], NOW - HOUR) == {}


async def test_open_conversations_per_phone_and_pool_number(store):
    await store.save_pool_number("79000000001", "")
    await store.save_pool_number("79000000002", "")
    account = await new_account(store, balance=10_000)
    await store.submit(
        account.id,
        [two_way("79161111111", "79000000001"), two_way("79162222222", "79000000002")],
        NOW,
    )
    await store.submit(account.id, [two_way("79161111111", "79000000002")], NOW + HOUR)
    await store.submit(account.id, [two_way("79161111111", "79000000001")], NOW + 2 * HOUR)
    opened = await store.two_way_open(["79161111111", "79169999999"], NOW)
    assert opened == {
        ("79161111111", "79000000001"): NOW + 2 * HOUR,
        ("79161111111", "79000000002"): NOW + HOUR,
    }
    assert await store.two_way_open(["79161111111"], NOW + 90 * 60 * SECOND) == {
        ("79161111111", "79000000001"): NOW + 2 * HOUR
    }
    assert await store.two_way_open([], NOW) == {}


async def test_the_link_keeper_gives_a_reply_to_the_account_whose_2way_it_answers(store):
    from pilotgate.connectors.base import MobileOriginated
    from pilotgate.pipeline.connector_pool import ConnectorPool
    from pilotgate.pipeline.links import LinkKeeper

    await store.save_pool_number("79000000001", "")
    first = await new_account(store, "a@example.com", "ka", balance=10_000)
    second = await new_account(store, "b@example.com", "kb", balance=10_000)
    (sid,) = (await store.submit(first.id, [two_way("79161111111", "79000000001")], NOW)).server_ids
    await store.submit(second.id, [two_way("79162222222", "79000000001")], NOW)
    keeper = LinkKeeper(
        store, ConnectorPool(lambda info: None), lambda: NOW, "p1", two_way_hours=72
    )
    reply = MobileOriginated(phone="79161111111", number="79000000001", text="Да", received=NOW)
    late = MobileOriginated(
        phone="79162222222", number="79000000001", text="поздно", received=NOW + 73 * HOUR
    )
    stranger = MobileOriginated(phone="79163333333", number="79000000001", text="?", received=NOW)
    await keeper.inbound("smsc", [reply, late, stranger])
    (item,) = await store.inbound(first.id)
    assert (item.phone, item.num, item.text, item.server_id) == (
        "79161111111",
        "79000000001",
        "Да",
        sid,
    )
    assert await store.inbound(second.id) == []  # too late: dropped, like the stranger's
