"""Text length and parts (contract §5.2): GSM-7 160/153, UCS-2 70/67, extension characters
count twice, at most `max_parts` parts, and the other channels' own limits."""

from __future__ import annotations

from .support import TELE2_PRICE, Rig

#: (text, parts): GSM-7 160 / 153 a part, UCS-2 70 / 67 a part (contract §5.2).
CASES = [
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),  # an extension character is two septets: 160
    ("€" * 81, 2),
    ("я" * 70, 1),  # Cyrillic is UCS-2
    ("я" * 71, 2),
    ("я" * 134, 2),
    ("я" * 135, 3),
    ("a" * 159 + "я", 3),  # one non-GSM character makes the whole text UCS-2
]


async def test_parts_and_price_follow_the_texts_alphabet_and_length(rig: Rig) -> None:
    found = []
    for text, _ in CASES:
        result = await rig.send(text)
        parts = (await rig.message(result.items[0][0])).parts
        found.append((text[:3], len(text), parts, result.cost))
    assert found == [(t[:3], len(t), n, n * TELE2_PRICE) for t, n in CASES]


async def test_an_empty_text_is_220(rig: Rig) -> None:
    assert await rig.refused("") == 220


async def test_ten_parts_are_allowed_and_eleven_are_221(rig: Rig) -> None:
    assert (await rig.send("a" * 153 * 10)).items[0][1].parts == 10
    assert await rig.refused("a" * (153 * 10 + 1)) == 221
    assert await rig.refused("я" * (67 * 10 + 1)) == 221


async def test_the_part_limit_is_the_operators_setting(rig: Rig) -> None:
    two = rig.make_gateway(max_parts=2)
    assert (await rig.send("a" * 306, gateway=two)).items[0][1].parts == 2
    assert await rig.refused("a" * 307, gateway=two) == 221


async def test_a_viber_text_is_one_message_up_to_1000_characters(rig: Rig) -> None:
    result = await rig.send("я" * 1000, sender="VIBER")
    assert (result.items[0][1].parts, result.cost) == (1, 190)  # 7,viber,1.90
    assert await rig.refused("я" * 1001, sender="VIBER") == 221
