"""The `Realiser` interface: turn a content plan into the patient's words.

Realisers only word the plan; they never add case content. Model-based realisers stream
sentences so speech synthesis can start before the reply is complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..core.text import split_sentences
from ..core.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack

@dataclass
class Realisation:
    """What a realiser produced for one turn: the words to speak and how they were made."""

    text: str
    realiser: str                        # "transformers", or "template(fallback:transformers)"
    fallback_reason: str | None = None
    rejected: str | None = None          # the generated text that was not spoken
    raw: str = ""                        # what the model generated, before any check
    tokens: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def fell_back(self) -> bool:
        return self.fallback_reason is not None


@runtime_checkable
class Realiser(Protocol):
    """Turns a content plan into the patient's words. `realise` is all a realiser must write;
    the rest has defaults that fit one whose words are ready at once (the template). A model
    realiser overrides them: it is worth streaming (`streams`), its words are checked against
    the plan (`realise_checked`: a `Realisation` with the fallback reason and rejected text when
    the check failed, recorded in the TurnResult), `stream` takes a cancel event for barge-in,
    and `warm` loads it before the first turn."""

    name: str
    streams: bool = False

    def realise(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> str: ...

    def stream(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> Iterator[str]:
        """Yield the reply sentence by sentence."""
        yield from split_sentences(self.realise(pack, plan, state))

    def realise_checked(self, pack: PersonaPack, plan: ContentPlan, state: SessionState, cancel=None) -> Realisation:
        return Realisation(self.realise(pack, plan, state), self.name)

    def warm(self) -> None:
        return None
