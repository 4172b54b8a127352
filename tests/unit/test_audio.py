"""G.711 and resampling (domain.audio), speech rules (domain.speech)."""

from __future__ import annotations

import math
import warnings
from array import array

import pytest

from pilotgate.domain import audio, speech

# G.711 (ITU-T Tables 2a/2b, as Sun's reference g711.c computes them): samples from several
# segments with their codes as transmitted (µ-law bits inverted, A-law even bits inverted).
ULAW = [(0, 0xFF), (-1, 0x7E), (32767, 0x80), (-32768, 0x00), (1000, 0xCE), (-1000, 0x4E)]
ALAW = [(0, 0xD5), (-1, 0x55), (32767, 0xAA), (-32768, 0x2A), (1000, 0xFA), (-1000, 0x7A)]


@pytest.mark.parametrize(("sample", "code"), ULAW)
def test_ulaw_table(sample: int, code: int) -> None:
    assert audio.ulaw_byte(sample) == code


@pytest.mark.parametrize(("sample", "code"), ALAW)
def test_alaw_table(sample: int, code: int) -> None:
    assert audio.alaw_byte(sample) == code


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_every_sample_matches_the_standard_library(law: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    pcm = array("h", range(-32768, 32768)).tobytes()
    expected = audioop.lin2ulaw(pcm, 2) if law == "ulaw" else audioop.lin2alaw(pcm, 2)
    assert audio.encode(pcm, law) == expected
    back = audioop.ulaw2lin if law == "ulaw" else audioop.alaw2lin
    decoded = array("h")
    decoded.frombytes(back(bytes(range(256)), 2))
    assert audio.decode(bytes(range(256)), law) == decoded.tolist()


def test_unknown_law_is_refused() -> None:
    with pytest.raises(ValueError, match="law"):
        audio.encode(b"\x00\x00", "gsm")


def _tone(frequency: float, rate: int, seconds: float = 1.0) -> bytes:
    count = int(rate * seconds)
    return array(
        "h", [int(10000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(count)]
    ).tobytes()


def _rms(pcm: bytes) -> float:
    samples = array("h")
    samples.frombytes(pcm)
    middle = samples[len(samples) // 8 : -len(samples) // 8]
    return math.sqrt(sum(s * s for s in middle) / len(middle))


def test_resampling_keeps_speech_and_drops_what_8_khz_cannot_carry() -> None:
    kept = audio.resample(_tone(1000, 22050), 22050)
    assert audio.seconds(kept) == pytest.approx(1.0, abs=0.001)
    assert _rms(kept) == pytest.approx(10000 / math.sqrt(2), rel=0.03)
    aliased = audio.resample(_tone(6000, 22050), 22050)  # above 4 kHz: would alias
    assert _rms(aliased) < 100
    assert audio.resample(b"", 22050) == b""
    assert audio.resample(_tone(440, 8000), 8000) == _tone(440, 8000)


def test_voice_and_language() -> None:
    assert speech.voice_for("GOLOS", "Ваш код 1234") == speech.Voice(
        language="ru", gender=speech.Gender.FEMALE
    )
    assert speech.voice_for("golosm", "Your code") == speech.Voice(
        language="en", gender=speech.Gender.MALE
    )
    assert speech.voice_for("GOLOSM", "Code: Ё").language == "ru"


def test_length_estimate() -> None:
    assert not speech.too_long("a" * 170, 10.0)
    assert speech.too_long("a" * 171, 10.0)
    assert speech.estimated_seconds("a   b\n\nc") == pytest.approx(5 / speech.CHARS_PER_SECOND)
    female = speech.Voice(language="en", gender=speech.Gender.FEMALE)
    male = speech.Voice(language="en", gender=speech.Gender.MALE)
    assert speech.cache_key("x", female, "e/1") != speech.cache_key("x", male, "e/1")
    assert speech.cache_key("x", female, "e/1") != speech.cache_key("x", female, "e/2")
