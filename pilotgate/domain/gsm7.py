"""GSM 03.38 septets (3GPP TS 23.038): text to septets and back, through the one table in
`domain.text`, and the 7-bit packing of septets into octets."""

from __future__ import annotations

import codecs

from . import text as sms_text


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """GSM 7-bit packing; `fill_bits` leading zero bits align text after a UDH."""
    acc, bits, out = 0, fill_bits, bytearray()
    for septet in septets:
        acc |= (septet & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        # Seven spare bits would read as a trailing "@": TS 23.038 pads them with CR.
        out.append((acc | (0x0D << bits)) & 0xFF if bits == 1 else acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, fill_bits: int = 0) -> bytes:
    """Inverse of `pack_septets`. A last septet that exists only as padding is dropped."""
    value = int.from_bytes(data, "little") >> fill_bits
    count = (len(data) * 8 - fill_bits) // 7
    septets = bytes((value >> (7 * i)) & 0x7F for i in range(count))
    # Seven spare bits at the end are padding (CR, or zeros from senders that skip the CR)
    # when one septet fewer would fill the same octets. A real "@" or CR in that very place
    # is indistinguishable from padding: TS 23.038 accepts that loss.
    if count and septets[-1] in (0, 0x0D) and -(-((count - 1) * 7 + fill_bits) // 8) == len(data):
        septets = septets[:-1]
    return septets


# Septets from the one GSM 03.38 table in `domain.text` (the escape is not a character).
_SEPTETS: dict[str, bytes] = {
    char: bytes([code])
    for code, char in enumerate(sms_text.GSM_ALPHABET)
    if code != sms_text.GSM_ESCAPE
} | {
    char: bytes([sms_text.GSM_ESCAPE, code]) for char, code in sms_text.GSM_EXTENSION_CODES.items()
}
_EXTENDED: dict[int, str] = {code: char for char, code in sms_text.GSM_EXTENSION_CODES.items()}


#: The same, as a charmap encoding table: code point → its septet, or escape and septet.
_ENCODING: dict[int, int | bytes] = {
    ord(char): septets[0] if len(septets) == 1 else septets for char, septets in _SEPTETS.items()
}


def gsm_encode(text: str) -> bytes:
    """One septet per octet; `text` must be GSM-7 (`domain.text.encoding_of`): another
    character raises KeyError."""
    # Why the codec: it encodes in C, a tenth of a join over the characters' septets for a
    # 140-character text (every message that goes out over an SMPP link, every receipt).
    try:
        return codecs.charmap_encode(text, "strict", _ENCODING)[0]
    except UnicodeEncodeError as error:
        raise KeyError(text[error.start]) from None


#: GSM 03.38 as a charmap decoding table: a septet is its character; an octet over 0x7F is
#: undefined (U+FFFE), so the codec raises on it and the careful loop below takes over.
_DECODING = sms_text.GSM_ALPHABET + "\ufffe" * 128


def gsm_decode(septets: bytes) -> tuple[str, bool]:
    """(text, lossy): a septet over 0x7F or an escape to no extension character reads as
    U+FFFD; an escape with nothing after it (the part was cut there) is dropped."""
    if sms_text.GSM_ESCAPE not in septets:
        # Why: most texts have no escape and no bad octet, and the codec decodes them in C,
        # a tenth of the loop's time for a 140-character text (every submit_sm's text).
        try:
            return codecs.charmap_decode(septets, "strict", _DECODING)[0], False
        except UnicodeDecodeError:
            pass  # an octet over 0x7F: the loop marks it U+FFFD and lossy
    out: list[str] = []
    lossy, i = False, 0
    while i < len(septets):
        if septets[i] == sms_text.GSM_ESCAPE:
            if i + 1 == len(septets):
                break
            char = _EXTENDED.get(septets[i + 1])
            i += 2
        else:
            char = sms_text.GSM_ALPHABET[septets[i]] if septets[i] < 0x80 else None
            i += 1
        lossy = lossy or char is None
        out.append("\ufffd" if char is None else char)
    return "".join(out), lossy
