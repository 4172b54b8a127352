from __future__ import annotations

import pytest

from pilotgate.domain import text


@pytest.mark.parametrize(
    ("message", "encoding", "parts"),
    [
        ("", text.Encoding.GSM7, 0),
        ("a" * 160, text.Encoding.GSM7, 1),
        ("a" * 161, text.Encoding.GSM7, 2),
        ("a" * 306, text.Encoding.GSM7, 2),
        ("a" * 307, text.Encoding.GSM7, 3),
        ("€" * 80, text.Encoding.GSM7, 1),  # extension characters count double
        ("€" * 81, text.Encoding.GSM7, 2),
        ("я" * 70, text.Encoding.UCS2, 1),
        ("я" * 71, text.Encoding.UCS2, 2),
        ("я" * 134, text.Encoding.UCS2, 2),
        ("я" * 135, text.Encoding.UCS2, 3),
        ("😀" * 35, text.Encoding.UCS2, 1),  # surrogate pairs: two units each
        ("😀" * 36, text.Encoding.UCS2, 2),
    ],
)
def test_parts_follow_gsm7_and_ucs2_limits(message, encoding, parts):
    assert text.encoding_of(message) is encoding
    assert text.count_parts(message) == parts
    assert text.segment(message).count == parts


def test_extension_pair_is_never_split_across_parts():
    message = "a" * 152 + "€" + "b" * 10  # the euro would straddle septets 153/154
    segmented = text.segment(message)
    assert segmented.parts[0] == "a" * 152
    assert segmented.parts[1].startswith("€")
    assert "".join(segmented.parts) == message


def test_surrogate_pair_is_never_split_across_parts():
    message = "я" * 66 + "😀" + "я" * 10
    segmented = text.segment(message)
    assert segmented.parts[0] == "я" * 66
    assert segmented.parts[1].startswith("😀")
    assert "".join(segmented.parts) == message


def test_every_gsm_character_keeps_gsm7():
    assert (
        text.encoding_of(
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
        )
        is text.Encoding.GSM7
    )
    assert text.encoding_of("^{}\\[~]|€") is text.Encoding.GSM7
    assert text.encoding_of("`") is text.Encoding.UCS2  # the backtick is not in GSM 03.38
