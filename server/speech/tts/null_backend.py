"""tts_backend "none": text-only deployments get empty audio and no errors, so the voice path
needs no special case when speech output is switched off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...persona.schema import Voice
from .base import DEFAULT_SAMPLE_RATE, BaseSynthesizer, SpeechAudio

if TYPE_CHECKING:
    from ...core.types import EmotionalState


class NullSynthesizer(BaseSynthesizer):
    """tts_backend 'none': text-only deployments get empty audio and no errors."""

    name = "none"

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        return SpeechAudio(b"", DEFAULT_SAMPLE_RATE)
