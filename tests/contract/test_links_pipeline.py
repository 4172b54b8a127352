"""The outbox and the link keeper together, on every backend, with a small in-test link:
one process holds a link (a second one does not bind it), messages routed to it are handed
over part by part, receipts reported through the keeper settle them, refusals end or requeue
them, inbound SMS reach the account that has the number, and stopping gives the link back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pilotgate.connectors.base import (
    Accepted,
    Events,
    LinkState,
    MobileOriginated,
    Outcome,
    Rejected,
)
from pilotgate.domain.messages import Message, Status
from pilotgate.domain.receipts import Receipt
from pilotgate.pipeline.connector_pool import ConnectorPool
from pilotgate.pipeline.links import LinkKeeper
from pilotgate.pipeline.outbox import Outbox

from .test_store import NOW, balance, draft, new_account, statuses


class _Link:
    """Takes every message in `parts` pieces; refuses numbers ending in 9 for good and in 8
    for now."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: Events | None = None
        self.taken: list[int] = []
        self.stopped = False

    async def start(self, events: Events) -> None:
        self.events = events

    async def stop(self) -> None:
        self.stopped = True

    def state(self) -> LinkState:
        return LinkState(bound=self.events is not None and not self.stopped, window=10)

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for m in messages:
            if m.phone.endswith("9"):
                outcomes.append(Rejected(server_id=m.server_id, error=221, final=True))
            elif m.phone.endswith("8"):
                outcomes.append(Rejected(server_id=m.server_id, error=0, final=False))
            else:
                self.taken.append(m.server_id)
                ids = tuple(f"{m.server_id}-{p}" for p in range(1, m.parts + 1))
                outcomes.append(Accepted(server_id=m.server_id, remote_id=ids[0], remote_ids=ids))
        return outcomes


def _clock() -> datetime:
    return NOW


async def _process(store, owner):
    await store.save_connector("smsc", "smpp", "{}", 0)
    link = _Link("smsc")
    pool = ConnectorPool(lambda info: link if info.name == "smsc" else None)
    outbox = Outbox(store, pool, _clock)
    keeper = LinkKeeper(store, pool, _clock, owner)
    return link, outbox, keeper


async def test_the_holder_hands_over_and_receipts_settle_the_messages(store):
    account = await new_account(store, balance=10_000)
    link, outbox, keeper = await _process(store, "p1")
    other_link, other_outbox, other_keeper = await _process(store, "p2")
    await keeper.run_once()
    await other_keeper.run_once()
    assert link.events is keeper and other_link.events is None  # one bind for the link
    submitted = await store.submit(
        account.id,
        [
            draft("79001234561", route="smsc", parts=2, price=300),
            draft("79001234569", route="smsc"),
            draft("79001234568", route="smsc"),
        ],
        NOW,
    )
    multi, refused, later = submitted.server_ids
    assert await other_outbox.run_once() == 0  # not its link: it claims nothing
    await outbox.run_once()
    assert link.taken == [multi]
    assert await statuses(store, account.id, submitted.server_ids) == {
        multi: Status.HANDED_OVER,
        refused: Status.ERROR,
        later: Status.ACCEPTED,
    }
    assert await balance(store, account.id) == 10_000 - 300 - 150  # the refused one refunded
    await keeper.receipts("smsc", [Receipt(remote_id=f"{multi}-1", status=Status.DELIVERED)])
    await keeper.receipts("smsc", [Receipt(remote_id=f"{multi}-2", status=Status.HANDED_OVER)])
    assert await statuses(store, account.id, [multi]) == {multi: Status.HANDED_OVER}
    await keeper.receipts("smsc", [Receipt(remote_id=f"{multi}-2", status=Status.DELIVERED)])
    assert await statuses(store, account.id, [multi]) == {multi: Status.DELIVERED}


async def test_a_receipt_saying_error_is_no_ending_the_real_one_after_it_still_settles(store):
    # -2 is never how a handed-over message ends (domain ENDINGS): recorded, it would take
    # the part's one outcome and leave the message handed over until it expired.
    account = await new_account(store, balance=10_000)
    _, outbox, keeper = await _process(store, "p1")
    await keeper.run_once()
    (sid,) = (await store.submit(account.id, [draft("79001234561", route="smsc")], NOW)).server_ids
    await outbox.run_once()
    await keeper.receipts("smsc", [Receipt(remote_id=f"{sid}-1", status=Status.ERROR, error=1)])
    assert await statuses(store, account.id, [sid]) == {sid: Status.HANDED_OVER}
    await keeper.receipts("smsc", [Receipt(remote_id=f"{sid}-1", status=Status.DELIVERED)])
    assert await statuses(store, account.id, [sid]) == {sid: Status.DELIVERED}


async def test_inbound_goes_to_the_number_owner_and_stop_releases_the_link(store):
    account = await new_account(store)
    await store.save_number("79990000001", account.id, NOW)
    link, _, keeper = await _process(store, "p1")
    await keeper.run_once()
    mo = MobileOriginated(phone="79001112233", number="79990000001", text="Да", received=NOW)
    stray = MobileOriginated(phone="79001112233", number="79990000002", text="?", received=NOW)
    await keeper.inbound("smsc", [mo, stray])
    (item,) = await store.inbound(account.id, only_new=True)
    assert (item.phone, item.num, item.text) == ("79001112233", "79990000001", "Да")
    keeper.stop()
    await keeper.run()
    assert link.stopped
    assert await store.link_leases() == []
    # Another process now takes the link at once, without waiting for the lease to run out.
    other, _, other_keeper = await _process(store, "p2")
    await other_keeper.run_once()
    assert other.events is other_keeper  # the clock never moved: no lease had to run out
