"""Session-level results shown at session end: coverage, missed opportunities and a
CARE-measure-style patient rating (Mercer et al. 2004), derived as documented in
docs/grading.md#care."""

from __future__ import annotations

from statistics import mean

from pydantic import BaseModel, Field

from ..core.types import SessionState, TurnResult
from ..grading.feedback import better_option
from ..persona.schema import PersonaPack

CARE_ITEMS = (
    "making me feel at ease",
    "letting me tell my story",
    "really listening",
    "being interested in me as a whole person",
    "fully understanding my concerns",
    "showing care and compassion",
    "being positive",
    "explaining things clearly",
    "helping me take control",
    "making a plan of action with me",
)


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


def _scale(x: float) -> int:
    """[0, 1] -> 1..5."""
    return max(1, min(5, 1 + round(4 * max(0.0, min(1.0, x)))))


def care_rating(turns: list[TurnResult], state: SessionState, pack: PersonaPack, checklist_coverage: float) -> dict[str, int]:
    """Each item is a documented function of what happened in the session."""
    n = max(1, len(turns))
    eccs = [t.grade.eccs for t in turns if t.grade.eccs is not None]
    high = sum(1 for e in eccs if e >= 3) / len(eccs) if eccs else 0.5
    flags = lambda *names: sum(1 for t in turns for f in t.grade.flags if f in names) / n
    open_share = sum(1 for t in turns if t.grade.question_type == "open") / n
    nurse_share = sum(1 for t in turns if t.grade.nurse) / n
    explored = sum(1 for t in turns if "explore" in t.grade.nurse or t.grade.epitome.explorations) / n
    concerns = len(state.revealed_concerns) / max(1, len(pack.hidden_concerns))
    social = [f for f in state.disclosed_facts if pack.fact(f).category == "social"]
    social_total = sum(1 for f in pack.facts if f.category == "social")
    trust, distress = state.emotional.trust, state.emotional.distress
    base = pack.emotion.baseline
    return {
        CARE_ITEMS[0]: _scale(0.5 + (base.distress - distress) + (trust - base.trust)),
        CARE_ITEMS[1]: _scale(min(1.0, 2 * open_share) - flags("interrupted", "topic_switch")),
        CARE_ITEMS[2]: _scale(high - flags("dismissive", "topic_switch")),
        CARE_ITEMS[3]: _scale((len(social) / social_total if social_total else 0.5) * 0.6 + min(1.0, 2 * explored) * 0.4),
        CARE_ITEMS[4]: _scale(0.6 * concerns + 0.4 * high),
        CARE_ITEMS[5]: _scale(min(1.0, 2.5 * nurse_share) - flags("dismissive", "sympathy_only", "false_understanding")),
        CARE_ITEMS[6]: _scale(0.5 + (trust - base.trust) - flags("dismissive")),
        CARE_ITEMS[7]: _scale(0.8 - 2 * flags("jargon") + 0.2 * any(t.act.value == "teach_back_request" for t in turns)),
        CARE_ITEMS[8]: _scale(0.4 + min(0.6, explored) - flags("advice_before_exploring", "premature_reassurance")),
        CARE_ITEMS[9]: _scale(0.3 * checklist_coverage + 0.4 * concerns + 0.3 * any(t.act.value in ("teach_back_request", "advice") for t in turns)
                              - flags("advice_before_exploring")),
    }


def summarise(pack: PersonaPack, state: SessionState, turns: list[TurnResult], opening: str = "") -> SessionSummary:
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
    return SessionSummary(
        turns=len(turns), opportunities_answered=len(eccs), mean_eccs=round(mean(eccs), 3) if eccs else None,
        nurse_counts=nurse, flag_counts=flags,
        open_questions=sum(1 for t in turns if t.grade.question_type == "open"),
        closed_questions=sum(1 for t in turns if t.grade.question_type == "closed"),
        facts_disclosed=list(state.disclosed_facts), facts_total=len(pack.facts),
        concerns_revealed=list(state.revealed_concerns), concerns_total=len(pack.hidden_concerns),
        checklist=checklist, checklist_coverage=round(coverage, 3),
        final_trust=state.emotional.trust, final_distress=state.emotional.distress, final_emotion=state.emotional.emotion,
        interruptions=state.interruptions, missed_opportunities=missed, care=care, care_total=sum(care.values()),
    )


def _opportunity_before(pack: PersonaPack, patient_text: str) -> str | None:
    for o in pack.empathic_opportunities:
        if o.line in patient_text:
            return o.id
    return None
