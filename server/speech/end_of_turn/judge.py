"""What an end-of-turn judge promises, so the policy and the voice channel can take the
textual model, an acoustic one (smart-turn) or a scripted fake alike."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class EndOfTurnModel(Protocol):
    version: str

    def probability_complete(self, text: str) -> float:
        """P(the utterance is finished) for what the learner has said so far, in [0, 1].
        An empty transcript is not evidence either way; a judge may return 0.5 for it."""
        ...


@runtime_checkable
class AcousticEndOfTurnModel(Protocol):
    version: str

    def probability_complete_audio(self, audio) -> float:
        """P(the utterance is finished) from the audio of the turn so far (16 kHz float32 samples),
        in [0, 1]; empty audio may get 0.5."""
        ...
