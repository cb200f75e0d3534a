"""The `Synthesizer` interface, the audio it returns and the sentence loop every backend shares.

The session code (api/voice.py) talks only to this interface, so a backend can be swapped by
configuration. The loop that speaks a reply sentence by sentence and stops on barge-in lives
here once, in BaseSynthesizer, so each backend only turns one sentence into PCM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ...persona.schema import Voice
from .sentences import split_for_speech

if TYPE_CHECKING:
    from ...core.types import EmotionalState

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


@runtime_checkable
class Synthesizer(Protocol):
    """One sentence in, PCM out. `synthesize` is all a backend must write: subclassing this
    protocol gives it the sentence loop.

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


class BaseSynthesizer(Synthesizer):
    """A backend with a fixed sample rate; subclasses implement `synthesize` and inherit the
    sentence loop the protocol gives."""

    name = "base"
    _sample_rate: int | None = DEFAULT_SAMPLE_RATE

    @property
    def sample_rate(self) -> int | None:
        return self._sample_rate

    def synthesize(self, text: str, voice: Voice, state: EmotionalState | None = None) -> SpeechAudio:
        raise NotImplementedError
