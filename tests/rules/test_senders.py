"""Who a message is from (contract §5.3, §11): the default sender, approved names, the
shapes a name may have, and accounts that may use any name."""

from __future__ import annotations

from pilotgate.domain.senders import SenderState
from pilotgate.storage.base import AccountChanges

from .support import Rig, open_account


async def test_without_from_the_gateways_shared_sender_is_used(rig: Rig) -> None:
    result = await rig.send("Hello")
    assert result.items[0][1].sender == "INFORM"


async def test_without_from_the_accounts_own_default_sender_is_used(rig: Rig) -> None:
    await rig.add_sender("MyShop", SenderState.APPROVED)
    await rig.store.update_account(rig.account_id, AccountChanges(default_sender="MyShop"))
    (server_id, draft) = (await rig.send("Hello")).items[0]
    assert draft.sender == "MyShop"
    assert (await rig.message(server_id)).sender == "MyShop"


async def test_the_shared_sender_needs_no_registration(rig: Rig) -> None:
    assert (await rig.send("Hello", sender="INFORM")).items[0][1].sender == "INFORM"


async def test_an_unregistered_name_is_204_and_costs_nothing(rig: Rig) -> None:
    before = await rig.balance()
    assert await rig.refused("Hello", sender="MyShop") == 204
    assert await rig.balance() == before
    assert await rig.messages() == []


async def test_a_name_not_yet_or_never_approved_is_204(rig: Rig) -> None:
    await rig.add_sender("Pending", SenderState.PENDING)
    await rig.add_sender("Rejected", SenderState.REJECTED)
    assert await rig.refused("Hello", sender="Pending") == 204
    assert await rig.refused("Hello", sender="Rejected") == 204


async def test_an_approved_name_is_used(rig: Rig) -> None:
    await rig.add_sender("MyShop", SenderState.APPROVED)
    (server_id, _) = (await rig.send("Hello", sender="MyShop")).items[0]
    assert (await rig.message(server_id)).sender == "MyShop"


async def test_another_accounts_approved_name_is_not_ours(rig: Rig) -> None:
    other = await open_account(rig.store, rig.clock, email="other@example.org", key="O" * 64)
    await rig.store.add_sender(other, "Theirs", "", "", SenderState.APPROVED, rig.clock())
    assert await rig.refused("Hello", sender="Theirs") == 204


async def test_a_name_of_the_wrong_shape_is_115(rig: Rig) -> None:
    # 3-11 of A-Za-z0-9.- and Cyrillic, or 6-14 digits.
    shapes = ["ab", "TwelveChars1", "my shop", "shop!", "12345", "123456789012345", "магазин№"]
    assert [await rig.refused("Hello", sender=s) for s in shapes] == [115] * len(shapes)


async def test_an_any_sender_account_may_use_any_well_formed_name(rig: Rig) -> None:
    await rig.store.update_account(rig.account_id, AccountChanges(any_sender=True))
    assert (await rig.send("Hello", sender="Anything")).items[0][1].sender == "Anything"
    assert (await rig.send("Hello", sender="79001234567")).items[0][1].sender == "79001234567"
    assert await rig.refused("Hello", sender="x") == 115  # the shape still applies


async def test_a_phone_number_sender_needs_approval_too(rig: Rig) -> None:
    assert await rig.refused("Hello", sender="79001234567") == 204
    await rig.add_sender("79001234567", SenderState.APPROVED)
    assert (await rig.send("Hello", sender="79001234567")).items[0][1].sender == "79001234567"
