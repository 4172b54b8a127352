"""Recipients (contract §2 "Phones", §5.4): normalisation, invalid numbers, duplicates, the
recipient limit and the whole-request rule."""

from __future__ import annotations

from .support import START_BALANCE, TELE2, TELE2_PRICE, Rig, errors, ids


async def test_the_ways_people_write_a_number_reach_the_same_phone(rig: Rig) -> None:
    written = ["+79087964781", "89087964781", "+7 (908) 796-47-81", "7-908-796-4781"]
    for n, raw in enumerate(written):
        (server_id, _) = (await rig.send(f"Hello {n}", raw)).items[0]
        assert (await rig.message(server_id)).phone == TELE2, raw


async def test_no_recipient_is_108(rig: Rig) -> None:
    assert [await rig.refused("Hello", to) for to in (None, "", " , ,")] == [108, 108, 108]


async def test_one_bad_recipient_fails_the_request(rig: Rig) -> None:
    # Not a number is 111; a length no mobile number has is 215.
    bad = ["abc", "7908796", "790879647811234"]
    assert [await rig.refused("Hello", to) for to in bad] == [111, 215, 215]
    assert await rig.messages() == []
    assert await rig.balance() == START_BALANCE


async def test_a_number_no_tariff_serves_is_213(rig: Rig) -> None:
    assert await rig.refused("Hello", "12025550123") == 213  # the default tariff has no US row


async def test_duplicates_get_one_message_and_one_charge(rig: Rig) -> None:
    result = await rig.send("Hello", "79087964781, 89087964781,+7 908 796 47 81")
    assert errors(result) == [(TELE2, 0)]
    assert result.cost == TELE2_PRICE
    assert len(await rig.messages()) == 1


async def test_each_distinct_phone_gets_its_own_server_id_in_request_order(rig: Rig) -> None:
    result = await rig.send("Hello", "79087964781,79101234567,79087964782")
    assert [d.phone for _, d in result.items] == ["79087964781", "79101234567", "79087964782"]
    server_ids = ids(result)
    assert len(set(server_ids)) == 3
    assert result.packet_id == server_ids[0]
    packet = await rig.gateway.packet(await rig.account(), result.packet_id, limit=10, offset=0)
    assert sorted(m.server_id for m in packet) == sorted(server_ids)


async def test_when_failures_do_not_outnumber_successes_both_are_listed(rig: Rig) -> None:
    result = await rig.send("Hello", "79087964781,abc")
    assert errors(result) == [(TELE2, 0), ("abc", 111)]
    assert [m.status for m in await rig.messages()] == [-2, 0]  # newest first
    assert await rig.balance() == START_BALANCE - TELE2_PRICE


async def test_when_failures_outnumber_successes_nothing_is_stored(rig: Rig) -> None:
    # The answer is the first failed phone's error, in request order.
    assert await rig.refused("Hello", "79087964781,7908796,abc") == 215
    assert await rig.messages() == []
    assert await rig.balance() == START_BALANCE


async def test_more_recipients_than_the_limit_is_240(rig: Rig) -> None:
    small = rig.make_gateway(max_recipients=2)
    await rig.send("Hello", "79087964781,79087964782", gateway=small)
    assert await rig.refused("Hi", "79087964781,79087964782,79087964783", gateway=small) == 240


async def test_a_number_check_takes_at_most_500_numbers(rig: Rig) -> None:
    many = ",".join(f"7908{n:07d}" for n in range(501))
    assert await rig.refused("HLR", many) == 240
