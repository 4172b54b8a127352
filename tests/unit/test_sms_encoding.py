from __future__ import annotations

import pytest

from pilotgate.domain import gsm7, sms_encoding as enc, text as sms_text
from pilotgate.domain.sms_encoding import Concat


def test_short_latin_is_gsm_one_septet_per_octet():
    [part] = enc.encode("Hello", concat=Concat.UDH, reference=0)
    assert (part.data_coding, part.esm_class, part.short_message) == (0, 0, b"Hello")


def test_gsm_extension_characters_take_an_escape_each():
    [part] = enc.encode("€[]{}^~\\|", concat=Concat.UDH, reference=0)
    assert part.short_message == bytes.fromhex("1b651b3c1b3e1b281b291b141b3d1b2f1b40")


def test_cyrillic_and_emoji_are_ucs2_with_surrogate_pairs():
    [part] = enc.encode("Я😀", concat=Concat.UDH, reference=0)
    assert part.data_coding == 8
    assert part.short_message == bytes.fromhex("042fd83dde00")


@pytest.mark.parametrize(
    ("septets", "packed"),
    [(b"hellohello", "e8329bfd4697d9ec37"), (b"1234567", "31d98c56b3dd1a")],
)
def test_packing_known_vectors(septets, packed):
    assert gsm7.pack_septets(septets).hex() == packed
    assert gsm7.unpack_septets(bytes.fromhex(packed)) == septets


def test_unpack_keeps_a_real_trailing_at_sign():
    for septets in (b"abcdef\x00", b"\x00", b"ab\x00", b"abcdefg", b"abcdefgh\r"):
        assert gsm7.unpack_septets(gsm7.pack_septets(septets)) == septets
    assert gsm7.pack_septets(b"abcdefg")[-1] >> 1 == 0x0D  # CR padding, not "@"


@pytest.mark.parametrize("concat", list(Concat))
@pytest.mark.parametrize("text", ["x" * 400, "Ж" * 150, "😀" * 40 + "a", "€" * 100 + "a" * 70])
def test_long_messages_round_trip_in_every_mode(concat, text):
    parts = enc.encode(text, concat=concat, reference=0x1234 if concat != Concat.UDH else 0x34)
    expected = sms_text.count_parts(text)
    if concat is Concat.PAYLOAD:
        assert len(parts) == 1 and parts[0].short_message == b""
    else:
        assert len(parts) == expected
    joined = enc.Reassembler()
    result = None
    for part in parts:
        fragment = enc.parse_mo(part.short_message, part.data_coding, part.esm_class, part.tlvs)
        assert not fragment.lossy
        result = joined.add("7999", "1000", fragment, now=0.0) or result
    assert result == text


def test_udh_headers_and_sar_tlvs():
    parts = enc.encode("a" * 200, concat=Concat.UDH, reference=7)
    assert [p.short_message[:6].hex() for p in parts] == ["050003070201", "050003070202"]
    assert all(p.esm_class == 0x40 for p in parts)
    parts = enc.encode("a" * 200, concat=Concat.UDH16, reference=0x0102)
    assert parts[1].short_message[:7].hex() == "06080401020202"
    parts = enc.encode("a" * 200, concat=Concat.SAR, reference=0x0102)
    assert parts[0].tlvs == ((0x020C, b"\x01\x02"), (0x020E, b"\x02"), (0x020F, b"\x01"))
    assert parts[0].esm_class == 0 and parts[0].short_message == b"a" * 153


def test_packed_gsm_parts_fit_and_round_trip():
    text = "z" * 300
    parts = enc.encode(text, concat=Concat.UDH, reference=1, packed=True)
    assert all(len(p.short_message) <= 140 for p in parts)
    joined = enc.Reassembler()
    out = [
        joined.add("p", "n", enc.parse_mo(p.short_message, 0, 0x40, (), packed=True), 0.0)
        for p in parts
    ]
    assert out[-1] == text
    [single] = enc.encode("z" * 160, concat=Concat.UDH, reference=1, packed=True)
    assert len(single.short_message) == 140


def test_references_are_not_reused_for_a_phone_in_flight():
    refs = enc.References(modulus=4)
    taken = [refs.allocate("79990000001") for _ in range(4)]
    assert sorted(taken) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="in flight"):
        refs.allocate("79990000001")
    assert refs.allocate("79990000002") in range(4)  # another phone is independent
    refs.release("79990000001", 2)
    assert refs.allocate("79990000001") == 2
    refs.release("nobody", 1)


@pytest.mark.parametrize(
    ("body", "coding", "esm"),
    [
        (b"\x05\x00\x03", 0, 0x40),  # header longer than the body
        (b"\x03\x00\x03\x01", 0, 0x40),  # IE cut short
        (b"\x05\x00\x03\x01\x02\x03hi", 0, 0x40),  # seq 3 of 2
        (b"\xd8\x3d", 8, 0),  # a lone surrogate
        (b"\x00\x41\x00", 8, 0),  # odd length
        (b"\x80\xff", 0, 0),  # not septets
        (b"", 0, 0x40),
        (b"\xe9", 4, 0),  # binary
    ],
)
def test_bad_mo_never_raises_and_says_lossy(body, coding, esm):
    fragment = enc.parse_mo(body, coding, esm, ())
    assert fragment.lossy
    assert fragment.reference is None


def test_sar_mo_and_payload_and_latin1():
    sar = [(0x020C, b"\x00\x09"), (0x020E, b"\x02"), (0x020F, b"\x02")]
    fragment = enc.parse_mo(b"world", 0, 0, sar)
    assert (fragment.reference, fragment.total, fragment.seq) == (9, 2, 2)
    bad_sar = [(0x020C, b"\x00\x09"), (0x020E, b"\x02"), (0x020F, b"\x05")]
    assert enc.parse_mo(b"x", 0, 0, bad_sar).lossy
    assert enc.parse_mo(b"", 8, 0, [(0x0424, "Привет".encode("utf-16-be"))]).text == "Привет"
    assert enc.parse_mo(b"caf\xe9", 3, 0, ()).text == "café"


def test_reassembler_expires_incomplete_messages():
    joined = enc.Reassembler(max_age=10)
    assert joined.add("p", "n", enc.Fragment(text="a", reference=1, total=3, seq=1), 0) is None
    assert joined.add("p", "n", enc.Fragment(text="a", reference=1, total=3, seq=1), 1) is None
    assert joined.expire(5) == []
    assert joined.expire(10) == [("p", "n", "a")]


def test_a_completed_message_is_given_again_until_finished():
    joined = enc.Reassembler()
    first = enc.Fragment(text="ab", reference=3, total=2, seq=1)
    last = enc.Fragment(text="cd", reference=3, total=2, seq=2)
    assert joined.add("p", "n", first, 0) is None
    assert joined.add("p", "n", last, 0) == "abcd"
    assert joined.add("p", "n", last, 1) == "abcd"  # storing failed; the SMSC resent it
    joined.finish("p", "n", last)
    assert joined.add("p", "n", last, 2) is None  # a new message with the same reference
    joined.finish("p", "n", enc.Fragment(text="x"))


@pytest.mark.parametrize("packed", [False, True])
def test_every_character_counted_as_gsm7_goes_out_and_comes_back_as_itself(packed):
    # One table (domain.text) decides both what is GSM-7 and the septets it travels as.
    alphabet = "".join(sorted(sms_text.GSM_BASIC | sms_text.GSM_EXTENSION))
    assert sms_text.encoding_of(alphabet) is sms_text.Encoding.GSM7
    [part] = enc.encode(alphabet, concat=Concat.PAYLOAD, reference=0, packed=packed)
    body = part.short_message or part.tlvs[0][1]
    septets = gsm7.unpack_septets(body) if packed and part.short_message else body
    assert enc.decode_body(septets, 0) == enc.Fragment(text=alphabet)


def test_gsm_septets_follow_the_03_38_table():
    assert gsm7.gsm_encode("@£$¥\nÅΔ_ÆßÉ ¤¡ÄÖÑÜ§¿äöñüà") == bytes.fromhex(
        "000102030a0e10111c1e1f2024405b5c5d5e5f607b7c7d7e7f"
    )
    assert gsm7.gsm_encode("\f€") == bytes.fromhex("1b0a1b65")


@pytest.mark.parametrize(
    ("septets", "text", "lossy"),
    [
        (b"\x1b\x41", "\ufffd", True),  # an escape to no extension character
        (b"\x1b\x1bA", "\ufffdA", True),
        (b"\x80a", "\ufffda", True),  # not a septet
        (b"ab\x1b", "ab", False),  # the escape of a part cut after it
        # Every septet but the escape, in one text without an escape (the codec's fast
        # path): each is its table character; one octet over 0x7F sends it to the loop.
        (
            bytes(range(27)) + bytes(range(28, 128)),
            sms_text.GSM_ALPHABET.replace("\x1b", ""),
            False,
        ),
        (b"Hello\xffworld", "Hello\ufffdworld", True),
    ],
)
def test_gsm_septets_that_do_not_decode_read_as_replacement(septets, text, lossy):
    assert gsm7.gsm_decode(septets) == (text, lossy)
    assert enc.decode_body(septets, 0) == enc.Fragment(text=text, lossy=lossy)
