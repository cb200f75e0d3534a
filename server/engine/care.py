"""The CARE measure's ten items (Mercer et al. 2004), each a documented function of what
happened in the session (docs/grading.md#care); `care_rule` then caps them by the session's
evidence, so a debrief never praises what the session contradicts."""

from __future__ import annotations

from ..core.types import SessionState, TurnResult
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



def scale(x: float) -> int:
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
        CARE_ITEMS[0]: scale(0.5 + (base.distress - distress) + (trust - base.trust)),
        CARE_ITEMS[1]: scale(min(1.0, 2 * open_share) - flags("interrupted", "topic_switch")),
        CARE_ITEMS[2]: scale(high - flags("dismissive", "topic_switch")),
        CARE_ITEMS[3]: scale((len(social) / social_total if social_total else 0.5) * 0.6 + min(1.0, 2 * explored) * 0.4),
        CARE_ITEMS[4]: scale(0.6 * concerns + 0.4 * high),
        CARE_ITEMS[5]: scale(min(1.0, 2.5 * nurse_share) - flags("dismissive", "sympathy_only", "false_understanding")),
        CARE_ITEMS[6]: scale(0.5 + (trust - base.trust) - flags("dismissive")),
        CARE_ITEMS[7]: scale(0.8 - 2 * flags("jargon") + 0.2 * any(t.act.value == "teach_back_request" for t in turns)),
        CARE_ITEMS[8]: scale(0.4 + min(0.6, explored) - flags("advice_before_exploring", "premature_reassurance")),
        CARE_ITEMS[9]: scale(0.3 * checklist_coverage + 0.4 * concerns + 0.3 * any(t.act.value in ("teach_back_request", "advice") for t in turns)
                              - flags("advice_before_exploring")),
    }
