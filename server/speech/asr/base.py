"""The `Transcriber` interface, the transcript every backend returns, and the small conversions
they all share (persona locale to Whisper language, segment scores to one confidence, text
normalised for comparison).

The session code (api/voice.py) sees only these types, so engines can be swapped by configuration.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel


class Transcript(BaseModel):
    text: str
    language: str | None = None
    no_speech_prob: float | None = None  # max over segments; None when the engine gave none
    avg_logprob: float | None = None  # token-weighted mean over segments
    duration_s: float
    backend: str
    model: str
    elapsed_ms: float


class TranscriptionError(RuntimeError):
    """The engine could not produce a transcript (remote down, timed out, bad reply)."""


@runtime_checkable
class Transcriber(Protocol):
    backend: str

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript: ...


def whisper_language(language: str | None) -> str | None:
    """Persona locales ("en-GB", "en_US") to Whisper's two-letter codes; None = auto-detect."""
    if not language:
        return None
    return re.split(r"[-_]", language.strip())[0].lower() or None


def summarise_segments(segments: list[tuple[str, float, float, int]]) -> tuple[str, float | None, float | None]:
    """Segments as (text, no_speech_prob, avg_logprob, n_tokens) → (text, max no-speech, mean logprob)."""
    text = " ".join(t.strip() for t, *_ in segments if t.strip())
    if not segments:
        return text, None, None
    no_speech = max(s[1] for s in segments)
    weights = np.array([max(s[3], 1) for s in segments], dtype=np.float64)
    logprob = float(np.average([s[2] for s in segments], weights=weights))
    return text, float(no_speech), logprob


def normalise_text(text: str) -> str:
    """Lowercase, punctuation to spaces, collapsed whitespace (also used for WER)."""
    text = re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "")
    return re.sub(r"\s+", " ", text).strip()
