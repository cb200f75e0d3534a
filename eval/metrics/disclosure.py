"""What the learner elicited and when: facts, hidden concerns and the history checklist."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from server.persona.schema import PersonaPack

from ..records import EvalSession


class Disclosure(BaseModel):
    id: str
    kind: Literal["fact", "concern", "unknown"]
    label: str
    turn: int | None = None
    """Learner turn whose reply first revealed it; None if never revealed."""


class ChecklistRow(BaseModel):
    id: str
    item: str
    done: bool
    turn: int | None = None


class Coverage(BaseModel):
    facts: list[Disclosure]
    concerns: list[Disclosure]
    facts_share: float | None
    concerns_share: float | None
    checklist: list[ChecklistRow]
    checklist_coverage: float | None


def first_revealed(session: EvalSession) -> dict[str, int]:
    seen: dict[str, int] = {}
    for t in session.turns:
        for item in t.disclosed:
            seen.setdefault(item, t.turn)
    return seen


def _share(rows: list[Disclosure]) -> float | None:
    return round(sum(r.turn is not None for r in rows) / len(rows), 3) if rows else None


def coverage(session: EvalSession, pack: PersonaPack | None) -> Coverage:
    seen = first_revealed(session)
    if pack is None:
        facts = [Disclosure(id=i, kind="unknown", label=i, turn=n) for i, n in seen.items()]
        return Coverage(facts=facts, concerns=[], facts_share=None, concerns_share=None, checklist=[],
                        checklist_coverage=None)
    facts = [Disclosure(id=f.id, kind="fact", label=f.topic, turn=seen.get(f.id)) for f in pack.facts]
    concerns = [Disclosure(id=c.id, kind="concern", label=c.concern, turn=seen.get(c.id)) for c in pack.hidden_concerns]
    checklist = []
    for c in pack.checklist:
        turns = [seen[f] for f in c.facts if f in seen]
        checklist.append(ChecklistRow(id=c.id, item=c.item, done=bool(turns), turn=min(turns) if turns else None))
    done = sum(r.done for r in checklist)
    return Coverage(facts=facts, concerns=concerns, facts_share=_share(facts), concerns_share=_share(concerns),
                    checklist=checklist, checklist_coverage=round(done / len(checklist), 3) if checklist else None)
