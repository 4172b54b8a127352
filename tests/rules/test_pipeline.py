"""The pipeline's decisions on an in-process worker (contract §6): a claimed message handed
to the emulator reaches its final status, refusals end it or queue it again, its validity
runs out, and every status it shows follows the table of domain/messages.py."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from pilotgate.connectors.base import Accepted, Outcome, Rejected
from pilotgate.domain.messages import ALLOWED, Message, Status
from pilotgate.domain.receipts import Receipt
from pilotgate.domain.routing import ALL_CHANNELS, Route
from pilotgate.errors import ConnectorError

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, open_account


class Scripted:
    """A connector that answers from a script, one entry per submit call: "refuse" (final),
    "later" (refused for 10 s), "down" (takes nothing), "bad" (a status no connector may
    answer), "receipt" (taken, its outcome to come by receipt), anything else delivered at
    once."""

    def __init__(self, *script: str) -> None:
        self.name = "scripted"
        self.script = list(script)
        self.calls = 0

    async def submit(self, messages: Sequence[Message], now: datetime) -> list[Outcome]:
        self.calls += 1
        step = self.script.pop(0) if self.script else "deliver"
        if step == "down":
            raise ConnectorError("not bound")
        if step == "refuse":
            return [Rejected(server_id=m.server_id, error=603, final=True) for m in messages]
        if step == "later":
            return [
                Rejected(server_id=m.server_id, error=603, final=False, retry_after=10)
                for m in messages
            ]
        if step == "receipt":
            return [Accepted(server_id=m.server_id, remote_id=f"s-{m.server_id}") for m in messages]
        status = Status.ACCEPTED if step == "bad" else Status.DELIVERED
        return [
            Accepted(
                server_id=m.server_id,
                remote_id=f"s-{m.server_id}",
                outcome_status=status,
                outcome_at=now,
            )
            for m in messages
        ]


async def scripted(rig: Rig, *script: str) -> Scripted:
    connector = Scripted(*script)
    rig.connectors[connector.name] = connector
    await rig.store.save_connector(connector.name, "emulator", "{}", 0)
    await rig.store.save_route(Route(prefix="", channel=ALL_CHANNELS, connectors=("scripted",)))
    return connector


async def statuses(rig: Rig, server_id: int, rounds: int, step: float = 1.0) -> list[Status]:
    """The message's status after each of `rounds` worker rounds, the first one included."""
    seen = [(await rig.message(server_id)).status]
    for _ in range(rounds):
        await rig.rounds(1, step=step)
        seen.append((await rig.message(server_id)).status)
    return seen


def assert_follows_the_table(seen: list[Status]) -> None:
    for before, after in itertools.pairwise(seen):
        assert after == before or after in ALLOWED[before], f"{before} -> {after}"


async def test_the_emulator_hands_over_then_delivers_and_charges_once(rig: Rig) -> None:
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    seen = await statuses(rig, server_id, rounds=3)
    assert seen == [Status.ACCEPTED, Status.HANDED_OVER, Status.DELIVERED, Status.DELIVERED]
    assert (await rig.message(server_id)).error == 0
    assert await rig.balance() == START_BALANCE - TELE2_PRICE


async def test_a_number_the_operator_cannot_reach_ends_601_and_stays_charged(rig: Rig) -> None:
    # The emulator fails numbers ending in 0 (emulator_fail_suffixes).
    (server_id, _) = (await rig.send("Hello", "79087964780")).items[0]
    seen = await statuses(rig, server_id, rounds=2)
    assert seen[-1] is Status.UNDELIVERED
    assert (await rig.message(server_id)).error == 601
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    assert_follows_the_table(seen)


async def test_a_batch_is_handed_over_in_one_round(rig: Rig) -> None:
    phones = ",".join(f"7908796478{d}" for d in range(1, 10))
    await rig.send("Hello", phones)
    await rig.rounds(2)
    assert {m.status for m in await rig.messages()} == {Status.DELIVERED}


async def test_a_final_refusal_ends_the_message_minus_2_and_gives_the_price_back(
    rig: Rig,
) -> None:
    await scripted(rig, "refuse")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    seen = await statuses(rig, server_id, rounds=2)
    message = await rig.message(server_id)
    assert (message.status, message.error) == (Status.ERROR, 603)
    assert await rig.balance() == START_BALANCE
    assert await rig.store.ledger_sum(rig.account_id) == START_BALANCE
    assert_follows_the_table(seen)


async def test_a_refusal_for_now_is_tried_again_after_its_delay(rig: Rig) -> None:
    connector = await scripted(rig, "later")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    await rig.rounds(1)
    assert (await rig.message(server_id)).status is Status.ACCEPTED
    await rig.rounds(5)  # 5 s of its 10 s delay: not offered again
    assert connector.calls == 1
    await rig.rounds(6)
    assert connector.calls == 2
    assert (await rig.message(server_id)).status is Status.DELIVERED
    assert await rig.balance() == START_BALANCE - TELE2_PRICE


async def test_a_connector_that_takes_nothing_leaves_the_message_queued(rig: Rig) -> None:
    connector = await scripted(rig, "down")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    await rig.rounds(1)
    assert (await rig.message(server_id)).status is Status.ACCEPTED
    await rig.rounds(2)
    assert connector.calls == 2
    assert (await rig.message(server_id)).status is Status.DELIVERED


async def test_a_connector_answering_an_impossible_status_cannot_move_the_message(
    rig: Rig,
) -> None:
    # "0 accepted" is no ending of a handed-over message: the batch goes back to the queue.
    await scripted(rig, "bad")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    seen = await statuses(rig, server_id, rounds=2)
    assert seen == [Status.ACCEPTED, Status.ACCEPTED, Status.DELIVERED]
    assert await rig.balance() == START_BALANCE - TELE2_PRICE


async def test_a_message_nobody_can_carry_expires_at_its_ttl_with_600(rig: Rig) -> None:
    await rig.store.set_connector_enabled("emulator", False)
    (server_id, _) = (await rig.send("Hello", TELE2, ttl="1")).items[0]
    seen = await statuses(rig, server_id, rounds=2, step=20)
    assert seen[-1] is Status.ACCEPTED  # 40 s of its minute
    seen += (await statuses(rig, server_id, rounds=1, step=21))[1:]
    message = await rig.message(server_id)
    assert (message.status, message.error) == (Status.UNDELIVERED, 600)
    # contract §5.2: a message that ends -1 stays charged.
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    assert_follows_the_table(seen)


async def test_a_scheduled_message_expires_by_its_ttl_counted_from_its_send_time(
    rig: Rig,
) -> None:
    await rig.store.set_connector_enabled("emulator", False)
    when = (rig.clock() + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    (server_id, _) = (await rig.send("Hello", TELE2, ttl="5", send_datetime=when)).items[0]
    seen = await statuses(rig, server_id, rounds=1, step=600)  # due: accepted, nobody takes it
    assert seen == [Status.SCHEDULED, Status.ACCEPTED]
    seen += (await statuses(rig, server_id, rounds=1, step=301))[1:]
    assert seen[-1] is Status.UNDELIVERED
    assert (await rig.message(server_id)).error == 600
    assert_follows_the_table(seen)


async def test_a_final_status_never_changes(rig: Rig) -> None:
    (server_id, _) = (await rig.send("Hello", TELE2, ttl="1")).items[0]
    await rig.rounds(2)
    delivered = await rig.message(server_id)
    assert delivered.status is Status.DELIVERED
    await rig.rounds(3, step=120)  # long past its ttl
    after = await rig.message(server_id)
    assert (after.status, after.error, after.modified) == (
        Status.DELIVERED,
        0,
        delivered.modified,
    )


async def test_viber_sms_to_a_phone_without_viber_is_sent_as_an_sms(rig: Rig) -> None:
    # The emulator finds no Viber on numbers ending in 9 (emulator_no_viber_suffixes).
    result = await rig.send("Hello", "79087964789", sender="VIBERSMS")
    (server_id, _) = result.items[0]
    assert result.cost == 190  # the Viber price, first
    seen = await statuses(rig, server_id, rounds=4)
    message = await rig.message(server_id)
    assert (message.status, message.channel, message.sender_orig) == (
        Status.DELIVERED,
        "sms",
        "VIBERSMS",
    )
    assert message.price == TELE2_PRICE
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    assert_follows_the_table(seen)


async def test_a_viber_message_to_a_phone_without_viber_ends_605(rig: Rig) -> None:
    (server_id, _) = (await rig.send("Hello", "79087964789", sender="VIBER")).items[0]
    await rig.rounds(2)
    message = await rig.message(server_id)
    assert (message.status, message.error) == (Status.UNDELIVERED, 605)


async def test_a_number_check_is_answered_by_the_hlr_emulator(rig: Rig) -> None:
    (served, _) = (await rig.send("HLR", TELE2)).items[0]
    (unserved, _) = (await rig.send("HLR", "79087964780")).items[0]
    await rig.rounds(2)
    assert (await rig.message(served)).status is Status.DELIVERED
    assert (await rig.message(unserved)).status is Status.UNDELIVERED


async def test_a_receipt_settles_a_handed_over_message(rig: Rig) -> None:
    await scripted(rig, "receipt")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    await rig.rounds(2)
    assert (await rig.message(server_id)).status is Status.HANDED_OVER
    receipt = Receipt(remote_id=f"s-{server_id}", status=Status.UNDELIVERED, error=602)
    assert await rig.store.record_receipts("scripted", [receipt], rig.clock()) == 1
    message = await rig.message(server_id)
    assert (message.status, message.error) == (Status.UNDELIVERED, 602)
    assert await rig.balance() == START_BALANCE - TELE2_PRICE


async def test_a_receipt_after_the_message_expired_changes_nothing(rig: Rig) -> None:
    await scripted(rig, "receipt")
    (server_id, _) = (await rig.send("Hello", TELE2, ttl="1")).items[0]
    seen = await statuses(rig, server_id, rounds=3, step=30)
    message = await rig.message(server_id)
    assert (message.status, message.error) == (Status.UNDELIVERED, 600)
    late = Receipt(remote_id=f"s-{server_id}", status=Status.DELIVERED)
    await rig.store.record_receipts("scripted", [late], rig.clock())
    seen.append((await rig.message(server_id)).status)
    assert seen[-1] is Status.UNDELIVERED
    assert_follows_the_table(seen)


async def test_viber_sms_falls_back_only_when_the_account_can_pay_the_sms(rig: Rig) -> None:
    # 1.90 pays the Viber attempt but not the 2.05 more its SMS would cost.
    rig.account_id = await open_account(
        rig.store, rig.clock, email="viber@example.org", key="V" * 64, balance=190
    )
    (server_id, _) = (await rig.send("Hello", "79087964789", sender="VIBERSMS")).items[0]
    seen = await statuses(rig, server_id, rounds=4)
    message = await rig.message(server_id)
    assert (message.status, message.error, message.channel) == (Status.UNDELIVERED, 605, "viber")
    assert await rig.balance() == 0
    assert_follows_the_table(seen)


async def test_an_outcome_due_before_the_expiry_wins_even_when_the_worker_is_late(
    rig: Rig,
) -> None:
    (server_id, _) = (await rig.send("Hello", TELE2, ttl="1")).items[0]
    await rig.rounds(1)  # handed over; the emulator's verdict "delivered" is due 1 s later
    assert (await rig.message(server_id)).status is Status.HANDED_OVER
    await rig.rounds(1, step=120)  # the worker's next round comes after the ttl ran out
    assert (await rig.message(server_id)).status is Status.DELIVERED
