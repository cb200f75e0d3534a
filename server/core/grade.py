"""The grade every grading backend returns, and the context it grades in.

Plain values shared by the grading backends, the engine (which keeps grades in the session
state) and the API; they live here, below all three, so none of them imports another for them.
Fields follow the published schemes summarised in docs/grading.md: ECCS (Bylund & Makoul
2002), NURSE (VitalTalk), EPITOME (Sharma et al. 2020), VR-CoDES space (Zimmermann 2011).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

NurseType = Literal["name", "understand", "respect", "support", "explore"]
Flag = Literal[
    "sympathy_only",
    "false_understanding",
    "premature_reassurance",
    "dismissive",
    "topic_switch",
    "jargon",
    "advice_before_exploring",
    "interrupted",
    "assumption_or_stereotype",
]
ALL_FLAGS: tuple[str, ...] = Flag.__args__  # type: ignore[attr-defined]
ALL_NURSE: tuple[str, ...] = NurseType.__args__  # type: ignore[attr-defined]
NEGATIVE_FLAGS = frozenset(ALL_FLAGS) - {"interrupted"}
TEXT_FLAGS: tuple[str, ...] = tuple(f for f in ALL_FLAGS if f != "interrupted")  # what a grader reads from words


class Epitome(BaseModel):
    emotional_reactions: int = Field(0, ge=0, le=2)
    interpretations: int = Field(0, ge=0, le=2)
    explorations: int = Field(0, ge=0, le=2)


class GradeContext(BaseModel):
    """What the grader knows besides the learner's words; the engine fills it from the pack."""

    patient_turn: str = ""
    patient_emotion: str | None = Field(None, description="The feeling behind the patient's turn (opportunity or persona emotion).")
    also_accept: list[str] = Field(default_factory=list, description="Other feelings the patient shows now (e.g. irritation).")
    opportunity_id: str | None = Field(None, description="Set when the patient's previous turn held an empathic opportunity.")
    opportunity_kind: Literal["explicit", "cue"] | None = None
    earlier: str = Field("", description="What the patient said before this turn in the consultation (their complaint and "
                         "context): a question on it takes up the patient's own complaint, not a new topic.")
    explored_before: bool = Field(False, description="Whether the learner has already explored the patient's concerns.")
    interrupted: bool = False


class Confidence(BaseModel):
    """How sure the grader is of its own decisions, as probabilities in [0, 1]. The engine scales
    the trust and distress a turn moves by them, and an unsure grade's feedback says so."""

    eccs: float | None = Field(None, ge=0, le=1, description="Probability of the ECCS level given; None without a level or a model.")
    flags: dict[str, float] = Field(default_factory=dict, description="Per text flag, the probability that its presence or absence is right.")


class Grade(BaseModel):
    grader_version: str
    eccs: int | None = Field(None, ge=0, le=6, description="Only when answering an empathic opportunity.")
    nurse: list[NurseType] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    epitome: Epitome = Field(default_factory=Epitome)
    space: Literal["provides", "reduces", "neutral"] = "neutral"
    question_type: Literal["open", "closed", "none"] = "none"
    named_emotion: str | None = Field(None, description="Emotion family the learner named, if any.")
    empathic_accuracy: bool | None = Field(None, description="Named emotion matches the patient's; None if none named.")
    feedback: str = ""
    confidence: Confidence = Field(default_factory=Confidence)
