"""API-2 packets (contract §12): each item judged alone by the API-1 rules, the valid ones
stored and charged together, all or none."""

from __future__ import annotations

import pytest

from pilotgate.errors import ApiError
from pilotgate.gateway import SendRequest

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, open_account


def item(to: str, text: str = "Hello", **fields: object) -> SendRequest:
    return SendRequest(text=text, to=to, **fields)  # type: ignore[arg-type]


async def test_each_item_is_judged_alone_and_only_valid_ones_are_charged(rig: Rig) -> None:
    result = await rig.gateway.send_packet(
        await rig.account(),
        [
            item(TELE2),
            item("abc"),
            item("79101234567", sender="MyShop"),
            item("79101234567", text=""),
            item("380501234567", ttl="0"),
            item("380501234567"),
        ],
    )
    outcomes = [o if isinstance(o, int) else o[1].phone for o in result.items]
    assert outcomes == [TELE2, 111, 204, 220, 270, "380501234567"]
    assert result.cost == TELE2_PRICE + 590
    assert await rig.balance() == START_BALANCE - TELE2_PRICE - 590
    assert len(await rig.messages()) == 2


async def test_a_packet_the_balance_does_not_cover_stores_nothing(rig: Rig) -> None:
    rig.account_id = await open_account(
        rig.store, rig.clock, email="poor@example.org", key="P" * 64, balance=TELE2_PRICE
    )
    with pytest.raises(ApiError) as caught:
        await rig.gateway.send_packet(await rig.account(), [item(TELE2), item("79087964782")])
    assert caught.value.code == 112
    assert await rig.messages() == []
    assert await rig.balance() == TELE2_PRICE


async def test_a_packet_may_repeat_a_phone_but_loop_protection_refuses_the_same_text(
    rig: Rig,
) -> None:
    await rig.store.set_loop_window(rig.account_id, 60)
    result = await rig.gateway.send_packet(
        await rig.account(), [item(TELE2), item(TELE2, text="Other"), item(TELE2)]
    )
    assert [o if isinstance(o, int) else 0 for o in result.items] == [0, 0, 243]
    assert result.cost == 2 * TELE2_PRICE
