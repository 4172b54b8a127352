"""Telephone audio, pure: 16-bit PCM resampled to 8 kHz and encoded as G.711 (µ-law, A-law).

G.711 is written out here rather than taken from the standard library's `audioop`, which is
deprecated (and removed in Python 3.13). The encoders follow the reference algorithm of ITU-T
G.711 (as in Sun's public-domain g711.c); the tests cross-check them against `audioop` while
it still exists, and against the standard's segment table.

PCM is little-endian signed 16-bit mono throughout (what espeak-ng writes and RTP carries
once encoded).
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from array import array

#: Telephone audio: 8,000 samples a second, one byte each once G.711-encoded.
RATE = 8000
#: Samples in one 20 ms RTP packet at 8 kHz.
FRAME_SAMPLES = 160

_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for segment, end in enumerate(ends):
        if value <= end:
            return segment
    return len(ends)


def ulaw_byte(sample: int) -> int:
    """One 16-bit sample → its µ-law code (0 → 0xFF, full scale → 0x80 / 0x00)."""
    value = sample >> 2  # µ-law works on 14 bits
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = _segment(value, (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def alaw_byte(sample: int) -> int:
    """One 16-bit sample → its A-law code (0 → 0xD5, full scale → 0xAA / 0x2A)."""
    value = sample >> 3  # A-law works on 13 bits
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = _segment(value, (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF))
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def ulaw_sample(code: int) -> int:
    """A µ-law code → the 16-bit sample it stands for (what a receiver plays)."""
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + _ULAW_BIAS) << ((code & 0x70) >> 4)
    return _ULAW_BIAS - magnitude if code & 0x80 else magnitude - _ULAW_BIAS


def alaw_sample(code: int) -> int:
    """An A-law code → the 16-bit sample it stands for."""
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    elif segment == 1:
        magnitude += 0x108
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


@functools.cache
def _table(law: str) -> tuple[int, ...]:
    """Code of every 16-bit sample, indexed by sample + 32768 (built once, 64 K entries)."""
    encode = ulaw_byte if law == "ulaw" else alaw_byte
    return tuple(encode(sample) for sample in range(-32768, 32768))


def _samples(pcm: bytes) -> array[int]:
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":  # pragma: no cover - PCM is little-endian on the wire
        samples.byteswap()
    return samples


def encode(pcm: bytes, law: str) -> bytes:
    """16-bit PCM → G.711 bytes; `law` is "ulaw" (PCMU) or "alaw" (PCMA)."""
    if law not in ("ulaw", "alaw"):
        raise ValueError(f"unknown G.711 law {law!r}")
    table = _table(law)
    return bytes(table[sample + 32768] for sample in _samples(pcm))


def decode(data: bytes, law: str) -> list[int]:
    """G.711 bytes → samples (for checks of what was sent)."""
    convert = ulaw_sample if law == "ulaw" else alaw_sample
    return [convert(code) for code in data]


@functools.cache
def _kernels(rate_in: int, rate_out: int, half: int) -> tuple[tuple[int, tuple[float, ...]], ...]:
    """Windowed-sinc low-pass kernels, one per output phase: (first input offset, taps)."""
    gcd = math.gcd(rate_in, rate_out)
    phases = rate_out // gcd
    cutoff = 0.9 * min(1.0, rate_out / rate_in)  # below the output's Nyquist frequency
    width = math.ceil(half / cutoff)
    kernels = []
    for phase in range(phases):
        position = phase * rate_in / rate_out
        start = math.floor(position) - width + 1
        taps = []
        for index in range(start, start + 2 * width):
            x = index - position
            window = 0.5 + 0.5 * math.cos(math.pi * x / (width + 1))  # Hann
            sinc = 1.0 if x == 0 else math.sin(math.pi * cutoff * x) / (math.pi * cutoff * x)
            taps.append(cutoff * sinc * window)
        kernels.append((start - math.floor(position), tuple(taps)))
    return tuple(kernels)


def resample(pcm: bytes, rate_in: int, rate_out: int = RATE) -> bytes:
    """16-bit mono PCM from `rate_in` to `rate_out` samples a second (band-limited first,
    so speech at 22,050 Hz does not alias into the telephone band)."""
    source = _samples(pcm)
    if rate_in == rate_out or not source:
        return source.tobytes()
    kernels = _kernels(rate_in, rate_out, 8)
    count = len(source) * rate_out // rate_in
    pad = len(kernels[0][1])
    padded = [0] * pad + source.tolist() + [0] * pad
    out = array("h", bytes(2 * count))
    phases = len(kernels)
    step_in = rate_in * phases // rate_out  # input samples per full cycle of phases
    for n in range(count):
        cycle, phase = divmod(n, phases)
        offset, taps = kernels[phase]
        base = pad + cycle * step_in + (phase * rate_in // rate_out) + offset
        value = sum(map(operator.mul, padded[base : base + len(taps)], taps))
        out[n] = max(-32768, min(32767, round(value)))
    return out.tobytes()


def seconds(pcm: bytes, rate: int = RATE) -> float:
    """Length of 16-bit mono PCM in seconds."""
    return len(pcm) / 2 / rate
