"""Which of a pack's learning objectives a session met, and at which turn (docs/debrief.md#objectives).

Reads only what the turns carry (grades, first disclosures, content plans), so a stored
session gives the same answer when its turns are rebuilt from the store. Which opportunity a
graded turn answered is replayed the way the engine chose it: the one the patient's previous
turn raised, else (a late answer) the oldest cue still unanswered.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..core.types import TurnResult
from ..persona.schema import MetWhen, PersonaPack

ACKNOWLEDGED = 3  # the ECCS level at which the engine counts an opportunity answered


class ObjectiveResult(BaseModel):
    text: str
    assessed: bool = Field(description="False for an objective without met_when: the debrief shows it without a verdict.")
    met: bool = False
    turn: int | None = Field(None, description="The learner turn that completed the evidence, when met.")


def answered_opportunities(pack: PersonaPack, turns: list[TurnResult]) -> list[str | None]:
    """For each turn, the opportunity its ECCS grade answered (None for a turn with no ECCS grade)."""
    opening = next((o.id for o in pack.empathic_opportunities if o.trigger.on == "opening"), None)
    pending, unanswered = opening, [opening] if opening else []
    out: list[str | None] = []
    for t in turns:
        answered = None
        if t.grade.eccs is not None:
            answered = pending or (unanswered[0] if unanswered else None)
            if answered in unanswered and t.grade.eccs >= ACKNOWLEDGED:
                unanswered.remove(answered)
        out.append(answered)
        pending = t.plan.opportunity
        if pending and pending not in unanswered:
            unanswered.append(pending)
    return out


def assess_objectives(pack: PersonaPack, turns: list[TurnResult]) -> list[ObjectiveResult]:
    answered = answered_opportunities(pack, turns)
    results = []
    for obj in pack.learning_objectives:
        if obj.met_when is None:
            results.append(ObjectiveResult(text=obj.text, assessed=False))
            continue
        firsts = [_first_turn(test, turns, answered) for test in _tests(pack, obj.met_when)]
        met = all(f is not None for f in firsts)
        results.append(ObjectiveResult(text=obj.text, assessed=True, met=met, turn=max(firsts) if met else None))
    return results


def _tests(pack: PersonaPack, when: MetWhen) -> list:
    """One predicate per evidence key given: (turn, the opportunity it answered) -> seen."""
    tests = []
    if when.eccs_at_least is not None:
        tests.append(lambda t, opp: t.grade.eccs is not None and t.grade.eccs >= when.eccs_at_least
                     and (when.opportunity is None or opp == when.opportunity))
    if when.nurse:
        tests.append(lambda t, opp: bool(set(t.grade.nurse) & set(when.nurse)))
    for ident in (when.concern_revealed, when.fact_disclosed):
        if ident is not None:
            tests.append(lambda t, opp, ident=ident: ident in t.disclosed)
    if when.checklist is not None:
        covers = set(next((c.facts for c in pack.checklist if c.id == when.checklist), []))
        tests.append(lambda t, opp: bool(covers & set(t.disclosed)))
    return tests


def _first_turn(test, turns: list[TurnResult], answered: list[str | None]) -> int | None:
    return next((t.turn_index for t, opp in zip(turns, answered) if test(t, opp)), None)
