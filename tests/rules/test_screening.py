"""Who may not be sent to (contract §5.4): the account's and the global stop lists (212) and
loop protection (243), each a per-recipient refusal that costs nothing."""

from __future__ import annotations

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, errors, open_account


async def test_a_phone_on_the_accounts_stop_list_is_212(rig: Rig) -> None:
    await rig.store.add_stops(rig.account_id, [TELE2], "asked us", rig.clock())
    assert await rig.refused("Hello", TELE2) == 212
    assert await rig.balance() == START_BALANCE


async def test_a_stopped_phone_among_others_is_an_item_that_costs_nothing(rig: Rig) -> None:
    await rig.store.add_stops(rig.account_id, [TELE2], "asked us", rig.clock())
    result = await rig.send("Hello", f"{TELE2},79087964782,79087964783")
    assert errors(result) == [(TELE2, 212), ("79087964782", 0), ("79087964783", 0)]
    assert await rig.balance() == START_BALANCE - 2 * TELE2_PRICE


async def test_the_global_stop_list_applies_to_every_account(rig: Rig) -> None:
    await rig.store.add_stops(None, [TELE2], "operator", rig.clock())
    assert await rig.refused("Hello", TELE2) == 212


async def test_another_accounts_stop_list_does_not_apply(rig: Rig) -> None:
    other = await open_account(rig.store, rig.clock, email="other@example.org", key="O" * 64)
    await rig.store.add_stops(other, [TELE2], "theirs", rig.clock())
    assert errors(await rig.send("Hello", TELE2)) == [(TELE2, 0)]


async def test_a_phone_taken_off_the_stop_list_gets_messages_again(rig: Rig) -> None:
    await rig.store.add_stops(rig.account_id, [TELE2], "asked us", rig.clock())
    await rig.store.remove_stop(rig.account_id, TELE2)
    assert errors(await rig.send("Hello", TELE2)) == [(TELE2, 0)]


async def test_without_loop_protection_the_same_text_may_go_twice(rig: Rig) -> None:
    await rig.send("Hello", TELE2)
    assert errors(await rig.send("Hello", TELE2)) == [(TELE2, 0)]


async def test_loop_protection_refuses_the_same_text_to_the_same_phone_within_the_window(
    rig: Rig,
) -> None:
    await rig.store.set_loop_window(rig.account_id, 60)
    await rig.send("Hello", TELE2)
    assert await rig.refused("Hello", TELE2) == 243
    assert await rig.balance() == START_BALANCE - TELE2_PRICE
    # Another text, or another phone, is not a loop.
    assert errors(await rig.send("Hello again", TELE2)) == [(TELE2, 0)]
    assert errors(await rig.send("Hello", "79087964782")) == [("79087964782", 0)]
    rig.clock.advance(seconds=61)
    assert errors(await rig.send("Hello", TELE2)) == [(TELE2, 0)]


async def test_the_gateways_loop_window_applies_to_accounts_without_their_own(rig: Rig) -> None:
    guarded = rig.make_gateway(loop_window_seconds=300)
    await rig.send("Hello", TELE2, gateway=guarded)
    result = await rig.send("Hello", f"{TELE2},79087964782,79087964783", gateway=guarded)
    assert errors(result) == [(TELE2, 243), ("79087964782", 0), ("79087964783", 0)]
    await rig.store.set_loop_window(rig.account_id, 0)  # the account opted out
    assert errors(await rig.send("Hello", TELE2, gateway=guarded)) == [(TELE2, 0)]


async def test_a_refused_message_does_not_count_as_sent_for_loop_protection(rig: Rig) -> None:
    await rig.store.set_loop_window(rig.account_id, 60)
    await rig.store.add_stops(rig.account_id, [TELE2], "asked us", rig.clock())
    await rig.send("Hello", f"{TELE2},79087964782")  # TELE2's item is a -2
    await rig.store.remove_stop(rig.account_id, TELE2)
    assert errors(await rig.send("Hello", TELE2)) == [(TELE2, 0)]
