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
