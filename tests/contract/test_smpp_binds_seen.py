"""What the console's SMPP page reads of live binds, on every backend (migration
0026_smpp_seen): a bind row records its type, the client's address and its bind time; one
renewal records each session's window in use and rate; rows of other nodes show too, rows
past their lease and released rows do not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pilotgate.operations import smpp

from .test_smpp_credentials import _account, gateway  # noqa: F401 - the fixture
from .test_store import NOW

LEASE = timedelta(seconds=15)


async def test_a_bind_row_shows_its_type_address_and_bind_time(gateway):  # noqa: F811
    account_id = await _account(gateway)
    store = gateway.store
    bind_id = await store.hold_smpp_bind(
        account_id, "node-a", 5, NOW, NOW + LEASE, bind_type="transceiver", address="10.0.0.7"
    )
    assert bind_id is not None
    (seen,) = await store.smpp_binds_live(NOW)
    assert (seen.id, seen.account_id, seen.owner) == (bind_id, account_id, "node-a")
    assert (seen.bind_type, seen.address, seen.since) == ("transceiver", "10.0.0.7", NOW)
    assert (seen.window_used, seen.mps_milli) == (0, 0)


async def test_one_renewal_records_every_sessions_window_and_rate(backend, gateway):  # noqa: F811
    account_id = await _account(gateway)
    store, other = gateway.store, await backend.open()
    first = await store.hold_smpp_bind(account_id, "a", 9, NOW, NOW + LEASE, bind_type="receiver")
    second = await store.hold_smpp_bind(account_id, "a", 9, NOW, NOW + LEASE)
    theirs = await other.hold_smpp_bind(account_id, "b", 9, NOW, NOW + LEASE)
    assert first and second and theirs
    later = NOW + LEASE + timedelta(seconds=1)
    # Process "a" renews with its sessions' use; "b" stopped renewing (it died).
    await store.renew_smpp_binds("a", later + LEASE, [(first, 3, 2500), (second, 0, 0)])
    await store.renew_smpp_binds("a", later + LEASE, [(theirs, 99, 99)])  # not a's row
    live = {b.id: b for b in await store.smpp_binds_live(later)}
    assert set(live) == {first, second}
    assert (live[first].window_used, live[first].mps_milli) == (3, 2500)
    assert live[first].bind_type == "receiver"
    assert (live[second].bind_type, live[second].address) == ("", "")
    # The operator's view: the rate exact, the receipts waiting for the account beside it.
    listed = await smpp.live_binds(gateway)
    assert [(b.bind.id, b.mps, b.waiting) for b in listed if b.bind.id == first] == [
        (first, Decimal("2.5"), 0)
    ]
    await store.release_smpp_bind(first)
    assert [b.id for b in await other.smpp_binds_live(later)] == [second]


async def test_a_renewal_without_use_still_keeps_the_rows(gateway):  # noqa: F811
    account_id = await _account(gateway)
    store = gateway.store
    bind_id = await store.hold_smpp_bind(account_id, "a", 2, NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    await store.renew_smpp_binds("a", later + LEASE)
    assert [b.id for b in await store.smpp_binds_live(later)] == [bind_id]
