"""What an account may send (contract §17.2, §17.3): countries outside its set are 213,
unpriced; its stop words are 247 and, switched on, mixed Cyrillic-Latin words 248."""

from __future__ import annotations

import pytest

from pilotgate.domain import audit
from pilotgate.errors import InputError
from pilotgate.gateway import SendRequest
from pilotgate.operations import protections
from pilotgate.operations.protections import ProtectionChanges

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, code_of, errors, ids

KAZAKHSTAN = "77011234567"  # 6.20 in the default tariff
ARMENIA = "37491234567"


async def protect(rig: Rig, **changes: object) -> protections.ProtectionView:
    return await protections.change(
        rig.gateway,
        audit.CLI,
        rig.account_id,
        ProtectionChanges(**changes),  # type: ignore[arg-type]
    )


async def test_the_default_set_is_russia_and_the_default_tariffs_countries(rig: Rig) -> None:
    shown = await protections.show(rig.gateway, rig.account_id)
    assert shown.default and {"RU", "KZ", "AM", "UA"} <= shown.countries
    result = await rig.send(to=f"{TELE2},{KAZAKHSTAN}")
    assert errors(result) == [(TELE2, 0), (KAZAKHSTAN, 0)]
    # The operator's setting narrows it for accounts without their own set.
    only_home = rig.make_gateway(default_countries=frozenset({"RU"}))
    assert (await rig.send(to=f"{TELE2},{ARMENIA}", gateway=only_home)).items[1][1].error == 213


async def test_a_country_outside_the_accounts_set_is_213_and_not_charged(rig: Rig) -> None:
    shown = await protect(rig, countries="ru, am")
    assert (shown.countries, shown.default) == (frozenset({"RU", "AM"}), False)
    result = await rig.send(to=f"{TELE2},{KAZAKHSTAN},{ARMENIA}")
    assert errors(result) == [(TELE2, 0), (KAZAKHSTAN, 213), (ARMENIA, 0)]
    assert result.items[1][1].price == 0
    # More failures than successes: the whole request fails, nothing stored or charged.
    before = await rig.balance()
    assert await rig.refused(to=KAZAKHSTAN) == 213
    assert await rig.balance() == before
    # API-2: that item alone.
    packet = await rig.gateway.send_packet(
        await rig.account(),
        [SendRequest(text="Hi", to=KAZAKHSTAN), SendRequest(text="Hi", to=TELE2)],
    )
    assert packet.items[0] == 213 and packet.cost == TELE2_PRICE
    # "*" opens every country; "" goes back to the default set.
    await protect(rig, countries="*")
    assert errors(await rig.send(to=KAZAKHSTAN)) == [(KAZAKHSTAN, 0)]
    assert (await protect(rig, countries="")).default


async def test_a_malformed_country_code_is_refused_by_name(rig: Rig) -> None:
    with pytest.raises(InputError, match="countries"):
        await protect(rig, countries="ru,russia")


async def test_stop_words_are_247_whole_words_any_case(rig: Rig) -> None:
    await protect(rig, stop_words="casino\nfree spins")
    assert await rig.refused("Best CASINO in town!") == 247
    assert await rig.refused("Get free   spins today") == 247
    assert ids(await rig.send("Casinos and spins, free")) != []
    packet = await rig.gateway.send_packet(
        await rig.account(),
        [SendRequest(text="casino", to=TELE2), SendRequest(text="Hello", to=TELE2)],
    )
    assert packet.items[0] == 247
    assert await rig.balance() == START_BALANCE - 2 * TELE2_PRICE


async def test_the_cyrlat_filter_is_off_until_switched_on(rig: Rig) -> None:
    lookalike = "Вход: sberbank-оnline.ru"  # a Cyrillic "о" in a Latin word
    assert ids(await rig.send(lookalike)) != []
    await protect(rig, cyrlat=True)
    assert await rig.refused(lookalike) == 248
    assert ids(await rig.send("Код 1234 для входа в app")) != []  # separate words are fine
    await protect(rig, cyrlat=False)
    assert ids(await rig.send(lookalike)) != []


async def test_caps_per_day_and_month_refuse_the_whole_send_with_223(rig: Rig) -> None:
    shown = await protect(rig, day_cap="3", month_cap="5")
    assert (shown.caps.day, shown.caps.month) == (3, 5)
    assert len(ids(await rig.send(to=f"{TELE2},79087964782"))) == 2
    before = await rig.balance()
    # Two more would make four today: refused whole, nothing stored or charged.
    assert await rig.refused(to="79087964783,79087964784") == 223
    assert await rig.balance() == before and len(await rig.messages()) == 2
    # A refused recipient does not count: this makes three.
    assert errors(await rig.send(to="79087964783,abc")) == [("79087964783", 0), ("abc", 111)]
    assert await rig.refused() == 223
    rig.clock.advance(days=1)
    assert len(ids(await rig.send(to="79087964785,79087964786"))) == 2  # five this month
    assert await rig.refused() == 223
    packet = [SendRequest(text="Hi", to=TELE2)]
    assert await code_of(rig.gateway.send_packet(await rig.account(), packet)) == 223
    # "0" lifts a cap; "default" goes back to the operator's.
    await protect(rig, month_cap="0")
    assert len(ids(await rig.send())) == 1
    await protect(rig, day_cap="default", month_cap="default")
    capped = rig.make_gateway(default_day_cap=1)
    rig.clock.advance(days=1)
    assert len(ids(await rig.send(gateway=capped))) == 1  # the first today
    assert await code_of(rig.send(gateway=capped)) == 223


async def test_a_malformed_cap_is_refused_by_name(rig: Rig) -> None:
    with pytest.raises(InputError, match="day_cap"):
        await protect(rig, day_cap="-1")
