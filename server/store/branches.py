"""Retried turns ("Try that again"): how a taken-back turn and its retry are marked, and which
turns the patient actually lived.

Both attempts stay in the store with their grades (turn indexes stay unique, so a retry is a
new turn). The taken-back turn's `extra.branch` is `{"status": "rewound", "retried_by": N}`
(`retried_by` is null until the learner says it another way) and the retry's `extra.retry_of`
is the taken-back turn's index. A rewound turn is shown (transcript, debrief, export) but is
not part of the conversation the patient lived: the next turn starts from the state before
it, and summaries count only lived turns (docs/debrief.md#retried-turns).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from .records import TurnRecord

REWOUND = "rewound"


class TurnBranch(BaseModel):
    """The mark on a taken-back turn."""

    status: Literal["rewound"] = REWOUND
    retried_by: int | None = Field(None, description="The turn that said it another way; null until there is one.")


def branch_of(turn: TurnRecord) -> TurnBranch | None:
    mark = turn.extra.get("branch")
    return TurnBranch.model_validate(mark) if mark else None


def rewound_extra(extra: dict | None) -> bool:
    """Whether a turn's `extra` marks it taken back."""
    return ((extra or {}).get("branch") or {}).get("status") == REWOUND


def is_rewound(turn: TurnRecord) -> bool:
    return rewound_extra(turn.extra)


def retry_of(turn: TurnRecord) -> int | None:
    return turn.extra.get("retry_of")


def lived_turns(turns: Iterable[TurnRecord]) -> list[TurnRecord]:
    """The turns the patient lived through: every turn that was not taken back."""
    return [t for t in turns if not is_rewound(t)]


def rewound_mark(retried_by: int | None = None) -> dict:
    return {"branch": TurnBranch(retried_by=retried_by).model_dump()}


@dataclass
class Branches:
    """What a conversation needs to know about its taken-back turns, between turns.

    `offset`: how many turns were taken back, so how far the store's turn index runs ahead of
    the engine's count of lived turns (the engine state goes back exactly, counter included).
    `open_retry`: a taken-back turn whose retry has not been said yet. `last_lived`: the index of
    the newest lived turn (0 before the first).
    """

    offset: int = 0
    open_retry: int | None = None
    last_lived: int = 0

    def lived(self, turn_index: int) -> None:
        """A turn was committed: it is the newest lived turn, and any open retry is now said."""
        self.last_lived = turn_index
        self.open_retry = None

    @classmethod
    def of(cls, turns: list[TurnRecord]) -> "Branches":
        rewound = [t for t in turns if is_rewound(t)]
        lived = lived_turns(turns)
        last = turns[-1] if turns else None
        open_retry = last.turn_index if last is not None and is_rewound(last) and branch_of(last).retried_by is None else None
        return cls(offset=len(rewound), open_retry=open_retry, last_lived=lived[-1].turn_index if lived else 0)
