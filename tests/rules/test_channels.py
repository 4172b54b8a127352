"""Special senders choose the channel (contract §5.3, §13), each priced from its own tariff
column; test=1 and the demo account never leave the gateway (contract §5.1, §15)."""

from __future__ import annotations

from pilotgate.bootstrap import DEMO_EMAIL
from pilotgate.domain.routing import ALL_CHANNELS, Route
from pilotgate.domain.tariffs import Rate
from pilotgate.storage.base import AccountChanges

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, open_account

#: (text, from, channel, price): the tariff's row for 7 in each channel's column.
SPECIAL = [
    ("Hello", "VIBER", "viber", 190),
    ("Hello!", "viber", "viber", 190),  # special senders are case-insensitive
    ("Hello", "GOLOS", "voice", 650),
    ("Hello", "GOLOSM", "voice", 650),
    ("1234", "FLASHCALL", "flashcall", 80),
    ("HLR", None, "hlr", 25),
    ("PING", None, "ping", 35),
]


async def test_a_special_sender_or_check_text_picks_the_channel_and_its_price(rig: Rig) -> None:
    found = []
    for text, sender, _, _ in SPECIAL:
        result = await rig.send(text, TELE2, sender=sender)
        stored = await rig.message(result.items[0][0])
        found.append((text, sender, stored.channel, stored.price))
    assert found == SPECIAL
    assert await rig.balance() == START_BALANCE - sum(price for *_, price in SPECIAL)


async def test_a_flash_call_code_is_4_to_6_digits(rig: Rig) -> None:
    codes = ["123", "1234567", "12a4", "hello"]
    assert [await rig.refused(c, TELE2, sender="FLASHCALL") for c in codes] == [221] * 4


async def test_a_voice_text_too_long_to_say_is_221(rig: Rig) -> None:
    short = rig.make_gateway(voice_max_seconds=5.0)
    assert await rig.refused("word " * 60, TELE2, sender="GOLOS", gateway=short) == 221


async def _route_everything_to(rig: Rig, name: str) -> None:
    await rig.store.save_connector(name, "emulator", "{}", 0)
    await rig.store.save_route(Route(prefix="", channel=ALL_CHANNELS, connectors=(name,)))


async def test_the_routing_table_picks_the_connector(rig: Rig) -> None:
    await _route_everything_to(rig, "upstream")
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    assert (await rig.message(server_id)).route == "upstream"


async def test_test_mode_goes_to_the_emulator_and_is_charged_like_any_send(rig: Rig) -> None:
    # contract §5.1: "every rule and charge applies", only the route differs.
    await _route_everything_to(rig, "upstream")
    result = await rig.send("Hello", TELE2, test=True)
    (server_id, _) = result.items[0]
    stored = await rig.message(server_id)
    assert (stored.route, stored.test) == ("emulator", True)
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    await rig.rounds(2)
    assert (await rig.message(server_id)).status == 2


async def test_test_mode_still_applies_every_rule(rig: Rig) -> None:
    assert await rig.refused("Hello", TELE2, test=True, sender="MyShop") == 204
    assert await rig.refused("", TELE2, test=True) == 220


async def test_the_demo_accounts_messages_always_go_to_the_emulator(rig: Rig) -> None:
    await _route_everything_to(rig, "upstream")
    rig.account_id = await open_account(rig.store, rig.clock, email=DEMO_EMAIL, key="D" * 64)
    (server_id, _) = (await rig.send("Hello", TELE2)).items[0]
    assert (await rig.message(server_id)).route == "emulator"


async def test_a_destination_without_a_route_is_213(rig: Rig) -> None:
    await rig.store.remove_route("", ALL_CHANNELS)
    await rig.store.save_route(Route(prefix="380", channel="sms", connectors=("emulator",)))
    assert await rig.refused("Hello", TELE2) == 213
    assert (await rig.send("Hello", "380501234567")).cost == 590


async def test_the_accounts_tariff_prices_its_messages(rig: Rig) -> None:
    await rig.store.replace_tariff(
        7, "wholesale", [Rate(prefix="7", channel="sms", price=100, country="RU", operator="")]
    )
    await rig.store.update_account(rig.account_id, AccountChanges(tariff_id=7))
    assert (await rig.send("Hello", TELE2)).cost == 100
    assert await rig.refused("Hello", "380501234567") == 213
