"""Text to speech for voice calls: Debian's espeak-ng, offline, driven as a program.

espeak-ng writes 22,050 Hz 16-bit mono WAV; it is resampled to 8 kHz here (pure Python,
`domain.audio`) and kept in a cache directory, one file per (engine, voice, text), so a
text sent to many phones is synthesized once. A cache file is written under a temporary
name and renamed, so a crash never leaves half a file that a later call would play.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import wave
from pathlib import Path

from pilotgate.domain import audio, speech
from pilotgate.errors import ConnectorError

log = logging.getLogger(__name__)

#: espeak-ng voice variants: a female and a male one of each language's voice.
VARIANTS = {speech.Gender.FEMALE: "f3", speech.Gender.MALE: "m1"}
#: Bumped when the rendering changes, so old cache files are not played.
FORMAT = "espeak-ng/8k-s16le/1"


class Synthesizer:
    def __init__(self, cache_dir: str, *, program: str = "espeak-ng", timeout: float = 60.0):
        self._dir = Path(cache_dir)
        self._program = program
        self._timeout = timeout

    def voice_name(self, voice: speech.Voice) -> str:
        return f"{voice.language}+{VARIANTS[voice.gender]}"

    async def speak(self, text: str, sender: str) -> bytes:
        """8 kHz 16-bit PCM of `text` in the sender's voice (from the cache when there).
        ConnectorError when espeak-ng is missing, fails or takes too long."""
        voice = speech.voice_for(sender, text)
        path = self._dir / f"{speech.cache_key(text, voice, FORMAT)}.pcm"
        with contextlib.suppress(FileNotFoundError):
            return await asyncio.to_thread(path.read_bytes)
        wav = await self._render(text, self.voice_name(voice))
        pcm = await asyncio.to_thread(_to_telephone, wav)
        await asyncio.to_thread(_store, path, pcm)
        return pcm

    async def _render(self, text: str, voice: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="pilotgate-tts-") as scratch:
            out = Path(scratch) / "speech.wav"
            try:
                process = await asyncio.create_subprocess_exec(
                    self._program,
                    "-b",
                    "1",
                    "-v",
                    voice,
                    "-w",
                    str(out),
                    "--stdin",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise ConnectorError(f"text to speech: cannot run {self._program}: {exc}") from exc
            try:
                async with asyncio.timeout(self._timeout):
                    _, errors = await process.communicate(text.encode("utf-8"))
            except TimeoutError as exc:
                process.kill()
                await process.wait()
                raise ConnectorError(f"text to speech: {self._program} took too long") from exc
            if process.returncode != 0 or not out.exists():
                detail = errors.decode("utf-8", "replace").strip()[:200]
                raise ConnectorError(f"text to speech failed ({process.returncode}): {detail}")
            return await asyncio.to_thread(out.read_bytes)


def _to_telephone(wav_bytes: bytes) -> bytes:
    import io

    with wave.open(io.BytesIO(wav_bytes)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ConnectorError("text to speech: expected 16-bit mono audio")
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    return audio.resample(pcm, rate, audio.RATE)


def _store(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".speech-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(pcm)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        log.warning("text to speech: could not cache %s", path, exc_info=True)
