"""How the patient's emotional state colours the voice: espeak rate, pitch and volume.

Kept apart from the backends because it is a clinical-behaviour choice, not an engine detail:
every backend applies the same mapping (Piper uses the rate and volume, espeak all three).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...persona.schema import Voice

if TYPE_CHECKING:
    from ...core.types import EmotionalState

# espeak-ng's accepted ranges (speak_lib.h): words per minute, pitch 0-99, amplitude 0-200.
RATE_MIN, RATE_MAX = 80, 450
PITCH_MIN, PITCH_MAX = 0, 99
VOLUME_MIN, VOLUME_MAX = 0, 200

# (rate factor, pitch offset, volume %) per emotion label, applied on top of the distress shift.
# Low-arousal feelings slow down and drop; anger speeds up a little, drops and gets louder;
# fear rises. Labels not listed (calm, unknown) change nothing.
_EMOTION_PROSODY: dict[str, tuple[float, int, int]] = {
    "sadness": (0.88, -6, 95),
    "loneliness": (0.88, -6, 95),
    "shame": (0.93, -4, 90),
    "guilt": (0.93, -4, 90),
    "relief": (0.97, -2, 100),
    "anger": (1.06, -4, 125),
    "frustration": (1.04, -2, 112),
    "fear": (1.04, 4, 100),
    "overwhelm": (1.03, 2, 100),
}


def _clamp(value: float, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, round(value))))


def prosody_for(voice: Voice, state: EmotionalState | None) -> tuple[int, int]:
    """Espeak (rate_wpm, pitch) for this persona voice in this emotional state.

    Deterministic so the same turn always sounds the same:
      rate  = voice.rate_wpm * (1 + 0.25 * (distress - 0.5)) * emotion_rate_factor
      pitch = voice.pitch + 20 * (distress - 0.5) + emotion_pitch_offset
    i.e. a distressed patient speaks up to ~12% faster and 10 pitch steps higher, a calm one
    slower and lower; sadness/loneliness x0.88 and -6, anger x1.06 and -4 (see _EMOTION_PROSODY).
    Results are clamped to espeak's ranges (80-450 wpm, pitch 0-99). No state: the persona's own.
    """
    if state is None:
        return _clamp(voice.rate_wpm, RATE_MIN, RATE_MAX), _clamp(voice.pitch, PITCH_MIN, PITCH_MAX)
    shift = state.distress - 0.5
    factor, offset, _ = _EMOTION_PROSODY.get(state.emotion.strip().lower(), (1.0, 0, 100))
    rate = voice.rate_wpm * (1 + 0.25 * shift) * factor
    pitch = voice.pitch + 20 * shift + offset
    return _clamp(rate, RATE_MIN, RATE_MAX), _clamp(pitch, PITCH_MIN, PITCH_MAX)


def volume_for(state: EmotionalState | None) -> int:
    """Espeak amplitude in percent (100 = normal): anger louder, shame and sadness softer."""
    if state is None:
        return 100
    return _clamp(_EMOTION_PROSODY.get(state.emotion.strip().lower(), (1.0, 0, 100))[2], VOLUME_MIN, VOLUME_MAX)


def gain_for(state: EmotionalState | None) -> float:
    """Linear gain for a backend whose voice is normalised near full scale (Piper, a remote server):
    the espeak amplitude scaled to leave headroom, so anger (125 %) is at most full scale."""
    return min(1.0, 0.8 * volume_for(state) / 100)
