"""Learner audio for voice sessions: each line synthesised once with the project's own TTS
(pyttsx3/espeak-ng, server/speech/tts/), as 16 kHz PCM16 the way a browser's microphone sends
it, and kept in a cache directory so later runs start at once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from server.persona.schema import Voice
from server.speech.asr.audio import SAMPLE_RATE, resample_to_16k

from .target import SetupError

LEARNER_VOICE = Voice(espeak_voice="en-us", rate_wpm=150)
QUIET = 0.02  # of full scale: below this at either end of a line is trimmed as silence


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bedside" / "loadtest"


def learner_audio(lines: list[str], cache_dir: Path) -> dict[str, bytes]:
    """PCM16 at 16 kHz for each distinct line, from the cache or synthesised now."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, bytes] = {}
    synth = None
    for line in dict.fromkeys(lines):
        path = cache_dir / f"{_key(line)}.pcm"
        if path.is_file():
            out[line] = path.read_bytes()
            continue
        if synth is None:
            synth = _synthesizer()
        out[line] = _pcm16_16k(synth.synthesize(line, LEARNER_VOICE))
        if not out[line]:
            raise SetupError(f"the TTS made no audio for the learner line {line!r}")
        tmp = path.with_suffix(".part")
        tmp.write_bytes(out[line])
        tmp.replace(path)
    return out


def _synthesizer():
    from server.speech.tts.base import TTSUnavailable
    from server.speech.tts.pyttsx3_backend import Pyttsx3Synthesizer

    try:
        return Pyttsx3Synthesizer()
    except TTSUnavailable as exc:
        raise SetupError(f"voice mode speaks the learner's lines with espeak-ng, which is unavailable here: {exc}") from None


def _pcm16_16k(audio) -> bytes:
    pcm = np.frombuffer(audio.pcm16, "<i2").astype(np.float32) / 32768.0
    pcm = resample_to_16k(pcm, audio.sample_rate)
    loud = np.flatnonzero(np.abs(pcm) > QUIET)
    if len(loud):
        pcm = pcm[loud[0]: loud[-1] + 1]
    return (np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes()


def _key(line: str) -> str:
    """The cache file of a line: changes with the words, the voice and the sample rate."""
    what = f"{LEARNER_VOICE.espeak_voice}|{LEARNER_VOICE.rate_wpm}|{LEARNER_VOICE.pitch}|{SAMPLE_RATE}|{line}"
    return hashlib.sha256(what.encode()).hexdigest()[:20]
