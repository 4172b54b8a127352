"""Text to speech with Debian's espeak-ng: voices by sender, language by text, 8 kHz audio,
and the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotgate.connectors.sip.tts import Synthesizer
from pilotgate.domain import audio, speech
from pilotgate.errors import ConnectorError
from tests.sip.peer import needs_espeak


@needs_espeak
async def test_voices_languages_and_cache(tmp_path: Path) -> None:
    tts = Synthesizer(str(tmp_path))
    female = await tts.speak("Ваш код 1234", "GOLOS")
    male = await tts.speak("Ваш код 1234", "GOLOSM")
    english = await tts.speak("Your code is 1234", "GOLOS")
    assert len({female, male, english}) == 3
    for pcm in (female, male, english):
        assert 0.8 < audio.seconds(pcm) < 4.0  # at 8,000 samples a second
    assert len(_cached(tmp_path)) == 3
    # The second time comes from the cache: the file is what is played.
    (cached,) = [p for p, pcm in _cached(tmp_path).items() if pcm == female]
    _overwrite(cached, b"\x00\x01" * 800)
    assert await tts.speak("Ваш код 1234", "GOLOS") == b"\x00\x01" * 800
    assert tts.voice_name(speech.voice_for("GOLOSM", "a")) == "en+m1"


async def test_a_missing_engine_is_a_connector_error(tmp_path: Path) -> None:
    tts = Synthesizer(str(tmp_path), program=str(tmp_path / "no-such-espeak"))
    with pytest.raises(ConnectorError, match="cannot run"):
        await tts.speak("hello", "GOLOS")
    failing = Synthesizer(str(tmp_path), program="false")
    with pytest.raises(ConnectorError, match="failed"):
        await failing.speak("hello", "GOLOS")
    assert not _cached(tmp_path)


def _cached(directory: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in directory.glob("*.pcm")}


def _overwrite(path: Path, data: bytes) -> None:
    path.write_bytes(data)
