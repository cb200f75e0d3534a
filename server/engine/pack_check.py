"""`bedside persona check`: can a learner reach everything a pack hides?

A pack whose hidden concern sits behind a cue that never fires, or behind a trust level an
empathic learner cannot reach, teaches nothing. The check plays two simulated learners
through the real engine (the configured grader, planner and template wording):

- an empathic learner: answers every cue or emotion the patient raises with an
  acknowledgement and an exploring question, asks each hidden concern's questions once its
  gate is open, and otherwise takes the history from the pack's own example questions;
- a dismissive learner, for opportunities that fire only under distress.

It fails when a hidden concern is never revealed or an opportunity is never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..persona.schema import PersonaPack
from .patient import Engine
from .planner import gate_open

MAX_TURNS = 40
EMPATHIC_REPLY = ("That sounds really hard, and it makes sense you'd feel that way. "
                  "What's worrying you most about it?")
EMPATHIC_INVITE = "I can see this has been weighing on you. What's the thing that worries you most?"
DISMISSIVE = ("You're overreacting, honestly. Let's just get through the questions.",
              "That's not really relevant. Any allergies?",
              "I don't have time for that. Just answer the question.")


@dataclass
class CheckResult:
    pack_id: str
    concerns_missed: list[str] = field(default_factory=list)
    opportunities_missed: list[str] = field(default_factory=list)
    turns: int = 0
    trace: list[str] = field(default_factory=list)
    # concern or opportunity id -> (the learner turn that reached it, 0 for the opening; which learner)
    reached: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.concerns_missed or self.opportunities_missed)


def _next_line(pack: PersonaPack, s, asked: set[str]) -> str:
    """The empathic learner's next line."""
    if s.pending_opportunity:
        return EMPATHIC_REPLY
    for c in pack.hidden_concerns:
        if c.id not in s.revealed_concerns and gate_open(c.gate, s):
            for q in c.example_questions:
                if q not in asked:
                    return q
    for f in pack.facts:
        if f.id not in s.disclosed_facts:
            q = next((q for q in f.example_questions if q not in asked), None)
            if q:
                return q
    return EMPATHIC_INVITE


def check_pack(engine: Engine, pack_id: str) -> CheckResult:
    pack = engine.pack(pack_id)
    res = CheckResult(pack_id)
    s, _ = engine.start(pack_id)
    res.reached.update({ident: (0, "empathic") for ident in s.raised_opportunities})
    asked: set[str] = set()
    for _ in range(MAX_TURNS):
        line = _next_line(pack, s, asked)
        asked.add(line)
        result, s = engine.respond(s, line)
        res.trace.append(f"{line} -> {result.reply}")
        res.turns += 1
        for ident in [*s.revealed_concerns, *s.raised_opportunities]:
            res.reached.setdefault(ident, (res.turns, "empathic"))
        if set(c.id for c in pack.hidden_concerns) <= set(s.revealed_concerns) and \
                all(o.id in s.raised_opportunities for o in pack.empathic_opportunities if o.trigger.on != "distress"):
            break
    raised = set(s.raised_opportunities)
    res.concerns_missed = [c.id for c in pack.hidden_concerns if c.id not in s.revealed_concerns]
    under_distress = [o for o in pack.empathic_opportunities if o.trigger.on == "distress" and o.id not in raised]
    if under_distress:
        d, _ = engine.start(pack_id)
        for i in range(MAX_TURNS // 2):
            _, d = engine.respond(d, DISMISSIVE[i % len(DISMISSIVE)])
            for ident in d.raised_opportunities:
                res.reached.setdefault(ident, (i + 1, "dismissive"))
        raised |= set(d.raised_opportunities)
    res.opportunities_missed = [o.id for o in pack.empathic_opportunities if o.id not in raised]
    return res
