"""The engine's SessionSummary for a session: the stored one, or recomputed.

Ended sessions carry the summary the learner saw. Active sessions and JSONL exports do
not, so it is recomputed with the engine's own `summarise` from a state rebuilt out of
the turns; CARE items and missed opportunities then follow the documented definitions
(docs/grading.md) exactly as they would have at session end.
"""

from __future__ import annotations

from pydantic import ValidationError

from server.engine.summary import SessionSummary, summarise
from server.core.types import ContentPlan, DialogueAct, EmotionalState, SessionState, TurnResult
from server.persona.schema import PersonaPack

from ..records import EvalSession, EvalTurn


def _act(value: str) -> DialogueAct:
    try:
        return DialogueAct(value)
    except ValueError:
        return DialogueAct.other


def lived(session: EvalSession) -> list[EvalTurn]:
    """The turns the patient lived: a turn taken back ("Try that again") is left out."""
    return [t for t in session.turns if t.lived]


def rebuilt_state(session: EvalSession, pack: PersonaPack) -> SessionState:
    facts = {f.id for f in pack.facts}
    concerns = {c.id for c in pack.hidden_concerns}
    turns = lived(session)
    revealed = [i for t in turns for i in t.disclosed]
    if turns:
        emotional = turns[-1].state_after
    else:
        b = pack.emotion.baseline
        emotional = EmotionalState(trust=b.trust, distress=b.distress, emotion=pack.emotion.primary.value)
    return SessionState(
        persona_id=session.persona_id, turn_index=len(turns), emotional=emotional,
        disclosed_facts=[i for i in revealed if i in facts], revealed_concerns=[i for i in revealed if i in concerns],
        interruptions=max(session.interruptions, sum(t.barged_in for t in turns)),
    )


def turn_results(session: EvalSession) -> list[TurnResult]:
    return [TurnResult(
        turn_index=t.turn, learner_text=t.learner_text, act=_act(t.act), grade=t.grade,
        state_before=t.state_before, state_after=t.state_after,
        plan=ContentPlan(style=t.state_after.style, emotion=t.state_after.emotion, opportunity=t.opportunity),
        disclosed=t.disclosed, reply=t.reply,
    ) for t in lived(session)]


def session_summary(session: EvalSession, pack: PersonaPack | None, opening: str | None) -> SessionSummary | None:
    if session.summary:
        try:
            return SessionSummary.model_validate(session.summary)
        except ValidationError:
            pass  # written by an older engine; recompute below if we can
    if pack is None:
        return None
    return summarise(pack, rebuilt_state(session, pack), turn_results(session), opening or "",
                     taken_back=len(session.turns) - len(lived(session)))
