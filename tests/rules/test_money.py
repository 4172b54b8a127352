"""Price and balance of a send (contract §5.2, §5.4): exact kopecks, charged once in the
transaction that stores the messages, 112 and nothing stored when the balance is short."""

from __future__ import annotations

from pilotgate.domain.accounts import AccountState
from pilotgate.gateway import Credentials
from pilotgate.storage.base import AccountChanges

from .support import KEY, START_BALANCE, TELE2, TELE2_PRICE, Rig, code_of, open_account


async def test_one_sms_costs_its_tariff_price_and_the_balance_drops_by_it(rig: Rig) -> None:
    result = await rig.send("Hello", TELE2)
    assert result.cost == TELE2_PRICE
    assert result.balance == START_BALANCE - TELE2_PRICE == await rig.balance()
    (server_id, _) = result.items[0]
    assert result.packet_id == server_id
    stored = await rig.message(server_id)
    assert (stored.price, stored.status, stored.country, stored.operator) == (
        TELE2_PRICE,
        0,
        "RU",
        "Tele2",
    )


async def test_each_phone_is_priced_by_its_longest_tariff_prefix_and_the_cost_is_the_sum(
    rig: Rig,
) -> None:
    # 7908 Tele2 3.95; 7910 MTS 4.35 (not the country's 4.50); no 7907 row: 7's 4.50; 380 5.90.
    result = await rig.send("Hello", "79087964781,79101234567,79071234567,380501234567")
    assert [d.price for _, d in result.items] == [395, 435, 450, 590]
    assert result.cost == 1870
    assert await rig.balance() == START_BALANCE - 1870
    assert await rig.store.ledger_sum(rig.account_id) == START_BALANCE - 1870


async def test_a_two_part_text_costs_twice(rig: Rig) -> None:
    result = await rig.send("x" * 161)
    assert result.items[0][1].parts == 2
    assert result.cost == 2 * TELE2_PRICE


async def test_cost_only_prices_without_storing_or_charging(rig: Rig) -> None:
    result = await rig.send("Hello", "79087964781,79101234567", cost_only=True)
    assert result.cost == 395 + 435
    assert [server_id for server_id, _ in result.items] == [0, 0]
    assert result.balance == START_BALANCE == await rig.balance()
    assert await rig.messages() == []


async def test_a_balance_that_does_not_cover_the_send_is_112_and_nothing_is_stored(
    rig: Rig,
) -> None:
    poor = await open_account(
        rig.store, rig.clock, email="poor@example.org", key="P" * 64, balance=TELE2_PRICE * 2 - 1
    )
    rig.account_id = poor
    assert await rig.refused("Hello", "79087964781,79087964782") == 112
    assert await rig.balance() == TELE2_PRICE * 2 - 1
    assert await rig.messages() == []


async def test_a_balance_of_exactly_the_price_is_enough(rig: Rig) -> None:
    rig.account_id = await open_account(
        rig.store, rig.clock, email="exact@example.org", key="E" * 64, balance=TELE2_PRICE
    )
    result = await rig.send()
    assert result.balance == 0 == await rig.balance()
    assert await rig.refused() == 112


async def test_failed_recipients_cost_nothing(rig: Rig) -> None:
    result = await rig.send("Hello", "79087964781,79101234567,abc")
    assert [(d.status, d.price, d.error) for _, d in result.items] == [
        (0, 395, 0),
        (0, 435, 0),
        (-2, 0, 111),
    ]
    assert result.cost == 830
    assert await rig.balance() == START_BALANCE - 830


async def test_balance_in_sms_divides_by_the_home_countrys_price(rig: Rig) -> None:
    # 1000.00 at 4.50 (the tariff's row for 7) buys 222 messages.
    assert await rig.gateway.balance_sms(await rig.account()) == START_BALANCE // 450


async def test_the_api_key_finds_the_account(rig: Rig) -> None:
    account = await rig.gateway.authenticate(Credentials(apikey=KEY), "192.0.2.1")
    assert account.id == rig.account_id


async def test_a_missing_malformed_or_unknown_key_is_refused(rig: Rig) -> None:
    codes = [
        await code_of(rig.gateway.authenticate(Credentials(apikey=key), "192.0.2.1"))
        for key in ("", "short", "Q" * 64)
    ]
    assert codes == [100, 101, 102]


async def test_a_blocked_account_is_refused_with_its_reason(rig: Rig) -> None:
    codes = []
    for state in (
        AccountState.BLOCKED_BALANCE,
        AccountState.BLOCKED_SPAM,
        AccountState.BLOCKED_UNTRUSTED,
    ):
        await rig.store.set_account_state(rig.account_id, state)
        codes.append(await code_of(rig.gateway.authenticate(Credentials(apikey=KEY), "192.0.2.1")))
    assert codes == [105, 106, 107]


async def test_a_key_used_from_outside_the_accounts_allowed_addresses_is_113(rig: Rig) -> None:
    await rig.store.update_account(rig.account_id, AccountChanges(allow_ip="192.0.2.0/24"))
    await rig.gateway.authenticate(Credentials(apikey=KEY), "192.0.2.7")
    assert await code_of(rig.gateway.authenticate(Credentials(apikey=KEY), "198.51.100.7")) == 113
