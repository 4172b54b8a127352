"""The storage contract of number checks (issue 6, item 1): a check's result fields stored
with its hand-over and read back with the message (also by the callback worker's read), the
PING leg of an HLRVIP kept from `submit` to `claim`, and the routes' `hlr_unreliable` flag.
Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pilotgate.domain.messages import Status
from pilotgate.domain.routing import Route
from pilotgate.storage.base import Handover
from pilotgate.storage.roles import Store

from .test_store import LEASE, NOW, SECOND, draft, new_account

DETAILS = {
    "imsi": "250011234567890",
    "msc": "79160000001",
    "mcc": "250",
    "mnc": "01",
    "cn": "RU",
    "net": "MTS",
    "rcn": "KZ",
    "rnet": "Кселл",  # non-ASCII survives both databases' text columns
}


async def test_details_are_stored_with_the_handover_and_read_back(store: Store) -> None:
    account = await new_account(store, balance=1_000)
    check = draft(channel="hlr", text="HLR", sender="HLR", price=25)
    ids = (await store.submit(account.id, [check, check, draft()], NOW)).server_ids
    (fresh,) = await store.messages_by_id(account.id, ids[:1])
    assert fresh.details == {}  # nothing before the check answered
    await store.claim("w1", NOW, NOW + LEASE, 10)
    handed = await store.record_handover(
        "w1",
        [
            Handover(
                server_id=ids[0],
                connector="hlr",
                remote_id="a",
                outcome_status=Status.DELIVERED,
                outcome_at=NOW + SECOND,
                details=DETAILS,
            ),
            Handover(
                server_id=ids[1],
                connector="hlr",
                remote_id="b",
                outcome_status=Status.UNDELIVERED,
                outcome_error=602,
                outcome_at=NOW + SECOND,
                details={"net": "MTS", "unknown": "dropped"},
            ),
            Handover(server_id=ids[2], connector="emu", remote_id="c"),
        ],
        NOW,
    )
    assert handed == 3
    assert await store.apply_due_outcomes(NOW + 2 * SECOND, 10) == 2
    found = {m.server_id: m for m in await store.messages_by_id(account.id, ids)}
    assert (found[ids[0]].status, found[ids[0]].details) == (Status.DELIVERED, DETAILS)
    assert found[ids[1]].details == {"net": "MTS"}  # only the result fields are kept
    assert found[ids[2]].details == {}
    (via_pipeline,) = await store.messages_by_ids(ids[:1])
    assert via_pipeline.details == DETAILS
    listed = {m.server_id: m for m in await store.find_messages(account.id, packet_id=ids[0])}
    assert listed[ids[0]].details == DETAILS


async def test_the_ping_leg_of_an_hlrvip_survives_from_submit_to_claim(store: Store) -> None:
    account = await new_account(store, balance=100_000)
    vip = draft(channel="hlr", text="HLRVIP", sender="HLRVIP", route="hlr1", ping_route="s1,s2")
    # Over the COPY threshold of PostgreSQL too, so both insert paths are covered.
    ids = (await store.submit(account.id, [vip] * 60 + [draft()], NOW)).server_ids
    claimed = await store.claim("w1", NOW, NOW + LEASE, 100)
    routes = {m.server_id: (m.route, m.ping_route) for m in claimed}
    assert routes[ids[0]] == routes[ids[59]] == ("hlr1", "s1,s2")
    assert routes[ids[60]] == ("", "")


async def test_routes_keep_the_hlr_unreliable_flag(store: Store) -> None:
    await store.save_route(Route(prefix="7916", channel="hlr", connectors=("a",)))
    await store.save_route(
        Route(prefix="7903", channel="hlr", connectors=("a", "b"), hlr_unreliable=True)
    )
    flags = {r.prefix: r.hlr_unreliable for r in await store.routes()}
    assert flags == {"7903": True, "7916": False}
    # Replacing a route replaces its flag too.
    await store.save_route(Route(prefix="7903", channel="hlr", connectors=("a",)))
    assert not any(r.hlr_unreliable for r in await store.routes())
