"""The SMS-pumping defence in process (contract §17.6): a suspicious message is held (4),
not charged; the operator releases it (charged, sent) or rejects it (-2, 223, the balance as
before); ordinary traffic passes."""

from __future__ import annotations

import json
import random

import pytest

from pilotgate.domain import audit, pumping
from pilotgate.domain.messages import Status
from pilotgate.errors import InputError
from pilotgate.gateway import SendResult
from pilotgate.operations import held
from pilotgate.pipeline import metrics
from pilotgate.pipeline.held_alerts import HeldAlerts
from pilotgate.testing.receiver import CallbackReceiver

from .support import START_BALANCE, TELE2_PRICE, Rig

#: Numbers of one block of 1000 (the default range: the first 8 digits), in no order.
BLOCK = [f"79087964{n:03d}" for n in random.Random(5).sample(range(1000), 40)]
TAJIKISTAN = "99290000{:04d}"  # 8.90 a part in the default tariff: high-priced


@pytest.fixture(autouse=True)
def defended(rig: Rig) -> None:
    """The gateway with the rules the settings' defaults give (`pumping = true`)."""
    rig.gateway = rig.make_gateway(pumping=pumping.DEFAULTS)


def statuses(results: list[SendResult]) -> list[int]:
    return [int(draft.status) for r in results for _, draft in r.items]


async def test_a_range_attack_is_held_past_the_limit_and_not_charged(rig: Rig) -> None:
    results = [await rig.send(to=phone) for phone in BLOCK[:12]]
    # The default limit: 10 messages of one account to one block of 1000 numbers in 10 minutes.
    assert statuses(results) == [0] * 10 + [4] * 2
    assert results[-1].cost == 0 and results[-1].items[0][1].price == TELE2_PRICE
    assert await rig.balance() == START_BALANCE - 10 * TELE2_PRICE
    # The customer sees status 4 through check; the operator sees the batch and the gauge.
    assert (await rig.message(results[-1].items[0][0])).status is Status.HELD
    (batch,) = await held.batches(rig.gateway)
    assert (batch.account_id, batch.messages, batch.price) == (rig.account_id, 2, 2 * TELE2_PRICE)
    assert b"pilotgate_held_messages 2.0" in metrics.exposition(await rig.gateway.queue_stats())
    # Held messages never leave: the worker sends the ten others only.
    await rig.rounds(3)
    assert [m.status for m in await rig.messages()].count(Status.HELD) == 2


async def test_release_charges_and_sends_the_held_messages(rig: Rig) -> None:
    results = [await rig.send(to=phone) for phone in BLOCK[:13]]
    before = await rig.balance()
    settled = await held.release(rig.gateway, audit.CLI, rig.account_id)
    assert (settled.messages, settled.amount) == (3, 3 * TELE2_PRICE)
    assert await rig.balance() == before - 3 * TELE2_PRICE
    assert not await held.batches(rig.gateway)
    await rig.rounds(3)
    last = await rig.message(results[-1].items[0][0])
    assert last.status in (Status.HANDED_OVER, Status.DELIVERED)
    (entry, *_) = await rig.store.audit_entries(rig.account_id, 5)
    assert (entry.action, entry.actor) == ("held.release", audit.CLI)
    assert "messages=3" in entry.detail


async def test_reject_ends_them_as_223_with_the_balance_as_before(rig: Rig) -> None:
    results = [await rig.send(to=phone) for phone in BLOCK[:12]]
    before = await rig.balance()
    settled = await held.reject(rig.gateway, audit.CLI, rig.account_id)
    assert settled.messages == 2
    assert await rig.balance() == before == START_BALANCE - 10 * TELE2_PRICE
    rejected = await rig.message(results[-1].items[0][0])
    assert (rejected.status, rejected.error, rejected.price) == (Status.ERROR, 223, 0)
    # Final: a later release finds nothing to release.
    assert (await held.release(rig.gateway, audit.CLI, rig.account_id)).messages == 0


async def test_a_release_the_balance_cannot_pay_changes_nothing(rig: Rig) -> None:
    for phone in BLOCK[:12]:
        await rig.send(to=phone)
    await rig.store.credit(rig.account_id, -(await rig.balance()), "adjust", "empty", rig.clock())
    with pytest.raises(InputError):
        await held.release(rig.gateway, audit.CLI, rig.account_id)
    assert (await held.batches(rig.gateway))[0].messages == 2
    assert await rig.balance() == 0


async def test_sequential_numbers_in_one_request_are_held(rig: Rig) -> None:
    result = await rig.send(to="79087964501,79087964502,79087964503,79087964504,79031234567")
    assert [int(d.status) for _, d in result.items] == [4, 4, 4, 4, 0]
    assert result.cost == result.items[4][1].price > 0


async def test_high_priced_destinations_past_the_limit_are_held(rig: Rig) -> None:
    results = [await rig.send(to=TAJIKISTAN.format(n * 37)) for n in range(12)]
    assert statuses(results) == [0] * 10 + [4] * 2


async def test_ordinary_traffic_passes(rig: Rig) -> None:
    # OTPs to 60 numbers across Russian operators, a few of them asking twice.
    rng = random.Random(1)
    prefixes = ["7908", "7916", "7926", "7903", "7912", "7950", "7999"]
    phones = [f"{rng.choice(prefixes)}{rng.randrange(10**7):07d}" for _ in range(60)]
    results = [await rig.send(text=f"Code {n}", to=phone) for n, phone in enumerate(phones)]
    results += [await rig.send(text="Code again", to=phone) for phone in phones[:5]]
    assert set(statuses(results)) == {0}


async def test_the_rules_switch_off(rig: Rig) -> None:
    off = rig.make_gateway(pumping=pumping.OFF)
    results = [await rig.send(to=phone, gateway=off) for phone in BLOCK[:12]]
    assert set(statuses(results)) == {0}


async def test_the_operator_callback_hears_of_held_traffic(rig: Rig) -> None:
    async with CallbackReceiver() as receiver:
        alerts = HeldAlerts(receiver.url_for("/held"), rig.clock, quiet=60)
        rig.gateway.held_alert = alerts.notice
        results = [await rig.send(to=phone) for phone in BLOCK[:13]]
        await alerts.drain()
        # The first send with a held message alerts; the next ones are in the quiet minute.
        (call,) = await receiver.wait_for(count=1)
        assert json.loads(call.body) == {
            "event": "held",
            "account_id": rig.account_id,
            "held": 1,
            "server_ids": [results[10].items[0][0]],
            "time": rig.clock().strftime("%Y-%m-%d %H:%M:%S"),
        }
        rig.clock.advance(seconds=61)
        later = await rig.send(to=BLOCK[13])
        await alerts.drain()
        assert len(await receiver.wait_for(count=2)) == 2
        assert json.loads(receiver.acknowledged[-1].body)["server_ids"] == [later.items[0][0]]
