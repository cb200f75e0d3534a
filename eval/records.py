"""The evaluation's own view of a session, whatever it was loaded from.

The store keeps more than evaluation needs (resume state, token hashes) and exported JSONL
keeps less (no plans, no opening). Both are turned into these models once, at load time,
so every metric and report reads one shape and never cares where the data came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from server.core.types import EmotionalState
from server.grading.base import Grade


class EvalTurn(BaseModel):
    turn: int = Field(ge=1)
    learner_text: str
    act: str = "other"
    grade: Grade
    grader_version: str
    state_before: EmotionalState
    state_after: EmotionalState
    disclosed: list[str] = Field(default_factory=list, description="Fact and concern ids first revealed by this reply.")
    reply: str
    created_at: datetime | None = None
    interrupted: bool = Field(False, description="The learner cut this turn's patient reply short (voice).")
    barged_in: bool = Field(False, description="This learner turn started while the patient was still talking.")
    opportunity: str | None = Field(None, description="Empathic opportunity the reply raised (from the stored plan).")
    learner_audio_s: float | None = Field(None, description="Length of the learner's speech (voice turns).")
    patient_audio_s: float | None = Field(None, description="Length of the patient's spoken reply, when stored.")
    timings_ms: dict[str, float | None] = Field(default_factory=dict)
    lived: bool = Field(True, description="False for a turn the learner took back (\"Try that again\"): graded, "
                        "but not part of the conversation the patient lived (docs/debrief.md#retried-turns).")


class EvalSession(BaseModel):
    id: str
    learner_id: str
    persona_id: str
    mode: Literal["text", "voice"] = "text"
    status: str = "ended"
    started_at: datetime
    ended_at: datetime | None = None
    opening: str | None = Field(None, description="The patient's first words; rebuilt from the pack when absent.")
    summary: dict[str, Any] | None = Field(None, description="The stored SessionSummary, if the session ended.")
    interruptions: int = 0
    schema_version: int = Field(description="Layout version of the source the session was read from.")
    turns: list[EvalTurn] = Field(default_factory=list)
