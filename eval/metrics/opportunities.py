"""Which empathic opportunity each learner turn was answering.

The patient turn before learner turn 1 is the opening; before turn n it is reply n-1.
The stored content plan names the opportunity a reply raised; exports lack plans, so the
pack's opportunity lines are looked for in the words instead (the same test the engine's
summary uses for missed opportunities).
"""

from __future__ import annotations

from server.persona.schema import PersonaPack

from ..records import EvalSession


def opportunity_in(text: str, pack: PersonaPack | None) -> str | None:
    if pack is None or not text:
        return None
    for o in pack.empathic_opportunities:
        if o.line in text:
            return o.id
    return None


def opening_opportunity(pack: PersonaPack | None) -> str | None:
    if pack is None:
        return None
    return next((o.id for o in pack.empathic_opportunities if o.trigger.on == "opening"), None)


def patient_turns_before(session: EvalSession, opening: str | None) -> dict[int, str]:
    """learner turn -> the patient's words just before it."""
    before, previous = {}, opening or ""
    for t in session.turns:
        before[t.turn] = previous
        previous = t.reply
    return before


def held_opportunities(session: EvalSession, pack: PersonaPack | None, opening: str | None) -> dict[int, str | None]:
    """learner turn -> opportunity held by the patient turn it answered (or None)."""
    held: dict[int, str | None] = {}
    previous = opening_opportunity(pack) if opening else None
    if opening and previous is None:
        previous = opportunity_in(opening, pack)
    for t in session.turns:
        held[t.turn] = previous
        previous = t.opportunity or opportunity_in(t.reply, pack)
    return held
