"""Rebuild what the grader saw at each stored turn and grade the turn again.

Each stored turn keeps the full engine state after it, and the session keeps its initial
state, so the state *before* turn n is exactly the state after turn n-1. The engine's own
`grade_context` turns that state into the grader's context (the patient's previous words,
the opportunity they held, the feeling behind them), and the late-cue rule of
`Engine.respond` is applied the same way, so a re-grade with an unchanged grader returns
the stored grade.
"""

from __future__ import annotations

from server.engine.patient import Engine
from server.core.types import SessionState
from server.grading.base import Grade, GradeContext, Grader
from server.persona.schema import PersonaPack
from server.store.records import SessionRecord, TurnRecord


def states_before(session: SessionRecord, turns: list[TurnRecord]) -> list[SessionState]:
    """The engine state each turn started from."""
    return [session.initial_state] + [t.session_state for t in turns[:-1]]


def fallback_context(previous_text: str, opportunity: str | None, interrupted: bool) -> GradeContext:
    """Without the persona pack only the words and the stored plan are known."""
    return GradeContext(patient_turn=previous_text, opportunity_id=opportunity, interrupted=interrupted)


def regrade_turn(helper: Engine, pack: PersonaPack | None, before: SessionState, turn: TurnRecord,
                 previous_plan_opportunity: str | None) -> Grade:
    grader: Grader = helper.grader
    interrupted = bool(turn.extra.get("barged_in", "interrupted" in turn.grade.flags))
    if pack is None:
        return grader.grade(turn.learner_text, fallback_context(before.last_patient_text, previous_plan_opportunity,
                                                                interrupted))
    ctx = helper.grade_context(pack, before, interrupted)
    grade = grader.grade(turn.learner_text, ctx)
    if ctx.opportunity_id is None and before.unanswered_cues and grade.nurse:
        late = grader.grade(turn.learner_text, helper.grade_context(pack, before, interrupted,
                                                                    opportunity_id=before.unanswered_cues[0]))
        if (late.eccs or 0) >= 3:
            grade = late
    return grade


def regrade_session(helper: Engine, pack: PersonaPack | None, session: SessionRecord,
                    turns: list[TurnRecord]) -> list[Grade]:
    grades, previous_opp = [], None
    if pack is not None:
        previous_opp = next((o.id for o in pack.empathic_opportunities if o.trigger.on == "opening"), None)
    for before, turn in zip(states_before(session, turns), turns):
        grades.append(regrade_turn(helper, pack, before, turn, previous_opp))
        previous_opp = (turn.extra.get("plan") or {}).get("opportunity")
    return grades
