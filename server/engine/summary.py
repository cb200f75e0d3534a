"""Session-level results shown at session end: coverage, missed opportunities and a
CARE-measure-style patient rating (Mercer et al. 2004), derived as documented in
docs/grading.md#care."""

from __future__ import annotations

from statistics import mean

from pydantic import BaseModel, Field

from ..core.types import SessionState, TurnResult
from ..grading.feedback import better_option
from ..persona.schema import PersonaPack
from .care import CARE_ITEMS, care_rating  # noqa: F401 - CARE_ITEMS is read from here too
from .care_rule import apply_care_rule
from .objectives import ObjectiveResult, assess_objectives

class MissedOpportunity(BaseModel):
    turn: int
    opportunity_id: str
    patient_said: str
    learner_said: str
    eccs: int
    better_option: str


class SessionSummary(BaseModel):
    turns: int
    opportunities_answered: int
    mean_eccs: float | None
    nurse_counts: dict[str, int]
    flag_counts: dict[str, int]
    open_questions: int
    closed_questions: int
    facts_disclosed: list[str]
    facts_total: int
    concerns_revealed: list[str]
    concerns_total: int
    checklist: dict[str, bool]
    checklist_coverage: float
    final_trust: float
    final_distress: float
    final_emotion: str
    interruptions: int = 0
    missed_opportunities: list[MissedOpportunity] = Field(default_factory=list)
    care: dict[str, int] = Field(default_factory=dict, description="CARE item -> 1..5")
    care_total: int = 0
    objectives: list[ObjectiveResult] = Field(default_factory=list, description="Each learning objective, met (at which "
                                              "turn) or not yet, from the pack's met_when (docs/debrief.md#objectives).")
    debrief_notes: list[str] = Field(default_factory=list, description="The case author's teaching notes, as the pack had "
                                     "them when the session ended.")
    taken_back: int = Field(0, description="Turns the learner took back (\"Try that again\"): graded and shown, "
                            "but not counted here; docs/debrief.md#retried-turns.")


def summarise(pack: PersonaPack, state: SessionState, turns: list[TurnResult], opening: str = "", *,
              taken_back: int = 0) -> SessionSummary:
    """The summary of the conversation the patient lived: `turns` leaves out turns taken back
    (server/store/branches.py lived_turns); `taken_back` says how many there were."""
    eccs = [t.grade.eccs for t in turns if t.grade.eccs is not None]
    nurse: dict[str, int] = {}
    flags: dict[str, int] = {}
    for t in turns:
        for x in t.grade.nurse:
            nurse[x] = nurse.get(x, 0) + 1
        for x in t.grade.flags:
            flags[x] = flags.get(x, 0) + 1
    known = set(state.disclosed_facts) | set(state.revealed_concerns)
    checklist = {c.id: any(f in known for f in c.facts) for c in pack.checklist}
    coverage = sum(checklist.values()) / len(checklist) if checklist else 0.0
    missed = []
    previous = opening
    for t in turns:
        if t.grade.eccs is not None and t.grade.eccs <= 2:
            opp = _opportunity_before(pack, previous)
            missed.append(MissedOpportunity(turn=t.turn_index, opportunity_id=opp or "", patient_said=previous,
                                            learner_said=t.learner_text, eccs=t.grade.eccs,
                                            better_option=better_option(pack.opportunity(opp).emotion.value if opp else None)))
        previous = t.reply
    care = care_rating(turns, state, pack, coverage)
    return apply_care_rule(SessionSummary(
        turns=len(turns), opportunities_answered=len(eccs), mean_eccs=round(mean(eccs), 3) if eccs else None,
        nurse_counts=nurse, flag_counts=flags,
        open_questions=sum(1 for t in turns if t.grade.question_type == "open"),
        closed_questions=sum(1 for t in turns if t.grade.question_type == "closed"),
        facts_disclosed=list(state.disclosed_facts), facts_total=len(pack.facts),
        concerns_revealed=list(state.revealed_concerns), concerns_total=len(pack.hidden_concerns),
        checklist=checklist, checklist_coverage=round(coverage, 3),
        final_trust=state.emotional.trust, final_distress=state.emotional.distress, final_emotion=state.emotional.emotion,
        interruptions=state.interruptions, missed_opportunities=missed, care=care, care_total=sum(care.values()),
        objectives=assess_objectives(pack, turns), debrief_notes=list(pack.debrief_notes),
        taken_back=taken_back,
    ))


def _opportunity_before(pack: PersonaPack, patient_text: str) -> str | None:
    for o in pack.empathic_opportunities:
        if o.line in patient_text:
            return o.id
    return None
