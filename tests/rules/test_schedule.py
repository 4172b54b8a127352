"""When a message goes and how long it may wait (contract §5.1, §6): send_datetime, ttl,
and the callback URL checked with them."""

from __future__ import annotations

from datetime import timedelta

from pilotgate.domain.messages import Status

from .support import NOW, Rig


def stamp(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%d %H:%M:%S")


async def test_a_future_send_datetime_is_scheduled_and_goes_when_it_comes(rig: Rig) -> None:
    (server_id, draft) = (await rig.send("Hello", send_datetime=stamp(timedelta(hours=1)))).items[0]
    assert draft.status is Status.SCHEDULED
    await rig.rounds(1, step=60)
    assert (await rig.message(server_id)).status is Status.SCHEDULED
    await rig.rounds(1, step=3600)
    assert (await rig.message(server_id)).status is Status.HANDED_OVER
    await rig.rounds(1)
    message = await rig.message(server_id)
    assert message.status is Status.DELIVERED
    assert message.send_datetime == NOW + timedelta(hours=1)


async def test_a_unix_time_is_a_send_datetime_too(rig: Rig) -> None:
    when = int((NOW + timedelta(days=2)).timestamp())
    (_, draft) = (await rig.send("Hello", send_datetime=str(when))).items[0]
    assert (draft.status, draft.send_datetime) == (Status.SCHEDULED, NOW + timedelta(days=2))


async def test_a_send_datetime_up_to_a_minute_old_means_now(rig: Rig) -> None:
    (_, draft) = (await rig.send("Hello", send_datetime=stamp(timedelta(seconds=-59)))).items[0]
    assert (draft.status, draft.send_datetime) == (Status.ACCEPTED, None)


async def test_a_send_datetime_too_old_too_far_or_unreadable_is_250(rig: Rig) -> None:
    values = [
        stamp(timedelta(seconds=-61)),
        stamp(timedelta(days=367)),
        "tomorrow",
        "2025-13-01 00:00:00",
    ]
    assert [await rig.refused("Hello", send_datetime=v) for v in values] == [250] * 4
    assert await rig.messages() == []


async def test_a_ttl_outside_1_to_1440_minutes_is_270(rig: Rig) -> None:
    values = ["0", "1441", "-5", "ten", "1.5"]
    assert [await rig.refused("Hello", ttl=v) for v in values] == [270] * 5


async def test_the_ttl_bounds_are_accepted(rig: Rig) -> None:
    for ttl in (1, 1440):
        (server_id, _) = (await rig.send(f"Hello {ttl}", ttl=str(ttl))).items[0]
        assert (await rig.message(server_id)).ttl == ttl


async def test_a_bad_callback_is_260(rig: Rig) -> None:
    assert await rig.refused("Hello", callback="ftp://example.org/cb") == 260
    assert await rig.refused("Hello", callback="/relative") == 260
    method = "put"  # our decision: get or post, anything else is a bad callback
    assert (
        await rig.refused("Hello", callback="https://example.org/", callback_method=method) == 260
    )


async def test_a_callback_the_operators_policy_refuses_is_260_and_nothing_is_stored(
    rig: Rig,
) -> None:
    async def internal_only(url: str) -> str | None:
        return "a private address" if "intranet" in url else None

    strict = rig.make_gateway(callback_check=internal_only)
    await rig.send("Hello", callback="https://example.org/cb", gateway=strict)
    assert await rig.refused("Hi", callback="http://intranet.local/cb", gateway=strict) == 260
    assert len(await rig.messages()) == 1
