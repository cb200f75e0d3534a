"""The `Realiser` interface: turn a content plan into the patient's words.

Realisers only word the plan; they never add case content. Model-based realisers stream
sentences so speech synthesis can start before the reply is complete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ..engine.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


@runtime_checkable
class Realiser(Protocol):
    name: str

    def realise(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> str: ...

    def stream(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> Iterator[str]:
        """Yield the reply sentence by sentence."""
        ...


@runtime_checkable
class CheckedRealiser(Realiser, Protocol):
    """A model realiser: its replies are generated, then checked (server/realise/grounding.py).

    `realise_checked` returns a `server.realise.model.Realisation`: the reply to speak, the
    realiser label ("transformers", or "template(fallback:transformers)" when the check
    failed), the fallback reason and the rejected text. The engine records these in the
    TurnResult. `stream` takes an optional cancel event for barge-in.
    """

    def realise_checked(self, pack: PersonaPack, plan: ContentPlan, state: SessionState, cancel=None): ...

    def warm(self) -> None: ...
