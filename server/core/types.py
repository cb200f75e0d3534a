"""Typed values that flow through one patient turn and into the transcript."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

from .grade import Grade

Style = Literal["guarded", "neutral", "open"]


class DialogueAct(str, Enum):
    greeting = "greeting"
    open_question = "open_question"
    closed_question = "closed_question"
    empathic_statement = "empathic_statement"
    explanation = "explanation"
    summary = "summary"
    plan = "plan"
    reassurance = "reassurance"
    advice = "advice"
    teach_back_request = "teach_back_request"
    closing = "closing"
    other = "other"


class EmotionalState(BaseModel):
    """The patient's feelings, in [0, 1]; see server/engine/state.py for the update rules."""

    trust: float = Field(ge=0, le=1)
    distress: float = Field(ge=0, le=1)
    emotion: str
    style: Style = "neutral"


class SessionState(BaseModel):
    """Everything the engine remembers between turns; serialisable so a session can resume."""

    persona_id: str
    pack_version: str | None = Field(None, description="The pack file's version (sha256, 12 hex) the session runs "
                                                       "against; 'draft:...' for an unsaved case in the case editor.")
    turn_index: int = 0
    emotional: EmotionalState
    disclosed_facts: list[str] = Field(default_factory=list)
    revealed_concerns: list[str] = Field(default_factory=list)
    raised_opportunities: list[str] = Field(default_factory=list)
    unanswered_cues: list[str] = Field(default_factory=list, description="Opportunities raised and not yet acknowledged.")
    acknowledged: list[str] = Field(default_factory=list)
    explored: list[str] = Field(default_factory=list)
    raised_at: dict[str, int] = Field(default_factory=dict, description="Opportunity id -> turn it was last raised.")
    times_raised: dict[str, int] = Field(default_factory=dict, description="Opportunity id -> how often it was raised.")
    asked_questions: list[str] = Field(default_factory=list, description="Patient questions already asked.")
    pending_opportunity: str | None = Field(None, description="Opportunity held by the patient's last turn.")
    last_patient_text: str = ""
    interruptions: int = 0
    history: list[tuple[str, str]] = Field(default_factory=list, description="(speaker, text) pairs, most recent last.")


class ContentPlan(BaseModel):
    """What the patient may say this turn. Realisers word it; they never add to it."""

    style: Style
    emotion: str
    correction: str | None = Field(None, description="Emotion the learner wrongly named, to be corrected.")
    correction_to: str | None = Field(None, description="The feeling the patient corrects it to.")
    facts: list[str] = Field(default_factory=list, description="Fact ids to disclose now.")
    deflected_facts: list[str] = Field(default_factory=list, description="Asked-for fact ids still gated.")
    repeated_facts: list[str] = Field(default_factory=list, description="Facts said on an earlier turn: referred back to, not recited.")
    guarded_facts: list[str] = Field(default_factory=list,
                                     description="Core history facts asked for before their gate opened: said in the guarded style.")
    asked: bool = Field(False, description="The learner's turn asked something (a reaction to empathy alone would not answer it).")
    concern: str | None = None
    repeated_concern: bool = Field(False, description="The concern was told on an earlier turn: referred back to, not retold.")
    risk: str | None = Field(None, description="A risk question was asked: the pack's risk answer of this kind is said.")
    opportunity: str | None = Field(None, description="Opportunity (cue or explicit emotion) to raise.")
    patient_question: str | None = None
    uncovered: Literal["deny", "unsure"] | None = None
    identity: Literal["age", "name"] | None = Field(None, description="The learner asked the patient's age or name: said from the pack's identity.")
    acknowledgement: Literal["warm", "cool", "none"] = "none"
    act: str = "other"
    turn_index: int = 0
    greeting: bool = False
    closing: bool = False


class TurnResult(BaseModel):
    turn_index: int
    learner_text: str
    act: DialogueAct
    grade: Grade
    state_before: EmotionalState
    state_after: EmotionalState
    plan: ContentPlan
    disclosed: list[str] = Field(default_factory=list, description="Fact and concern ids first disclosed this turn.")
    reply: str
    realiser: str = "template"
    fallback_reason: str | None = Field(None, description="Why a model realiser's reply was not used (template spoken instead).")
    rejected_reply: str | None = Field(None, description="The generated reply the grounding check rejected.")
    timings_ms: dict[str, float] = Field(default_factory=dict)


def answer_style(plan: ContentPlan, fact_id: str) -> Style:
    """The style a fact is said in: core history asked for before its gate opened is guarded."""
    return "guarded" if fact_id in plan.guarded_facts else plan.style
