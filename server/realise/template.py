"""The template realiser: the reply is assembled from the pack's own lines.

Deterministic and always available; model realisers fall back to it. Besides pack lines
it uses only short content-free phrases (greetings, thanks, "I'll try"), never facts.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..engine.emotions import ADJECTIVE
from ..engine.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack
from .base import split_sentences

# (guarded, neutral, open) wordings of content-free moves
GREETING = ("Hello.", "Hello, doctor.", "Hello, doctor. Thank you for seeing me.")
WARM = ("Thank you.", "Thank you for saying that.", "Thank you. That really helps.")
WARM_INDIRECT = ("You are kind.", "You are very kind to ask.", "You are very kind. It helps, talking like this.")
COOL = ("Right.", "Okay.", "Okay.")
CLOSING = ("Okay. Bye.", "Thank you, doctor.", "Thank you, doctor. This really helped.")
FILLER = {
    "advice": ("Easier said than done.", "I'll try.", "Okay, I'll try that."),
    "explanation": ("Okay.", "I see.", "Okay, that makes sense."),
    "reassurance": ("If you say so.", "I hope you're right.", "I hope so."),
    "teach_back_request": ("I think so.", "I'll do my best.", "Yes, I think I've got it."),
    "empathic_statement": ("Mm.", "Yes. It's been hard.", "Yes. Thank you for listening."),
    "other": ("Mm.", "Okay.", "Okay."),
}
_STYLE_INDEX = {"guarded": 0, "neutral": 1, "open": 2}


def pick(options: list[str], turn_index: int) -> str:
    """Deterministic choice that varies from turn to turn."""
    return options[turn_index % len(options)]


def correction_line(pack: PersonaPack, named: str, actual: str) -> str:
    wrong, right = ADJECTIVE.get(named, named), ADJECTIVE.get(actual, actual)
    if pack.identity.cultural_expression.value == "indirect":
        return f"Oh, I wouldn't say {wrong}. I am just a little {right}, I suppose."
    return f"I'm not {wrong}. I'm {right}."


class TemplateRealiser:
    name = "template"

    def labelled_parts(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> list[tuple[int, str, str]]:
        """(priority, kind, sentence-group) in speaking order; lower priority is dropped first.

        `kind` names the plan item a group words ("fact:<id>", "concern:<id>", "opportunity:<id>",
        "question:<id>", "correction", "uncovered:deny|unsure", "deflect") or a content-free
        move ("greeting", "ack", "closing", "filler"); the grounding check uses it.
        """
        i = _STYLE_INDEX[plan.style]
        n = plan.turn_index
        out: list[tuple[int, str, str]] = []
        if plan.greeting:
            out.append((2, "greeting", GREETING[i]))
        if plan.correction:
            out.append((9, "correction", correction_line(pack, plan.correction, plan.correction_to or pack.emotion.primary.value)))
        if plan.acknowledgement == "warm" and not plan.greeting:
            warm = WARM_INDIRECT if pack.identity.cultural_expression.value == "indirect" else WARM
            out.append((1, "ack", warm[i]))
        elif plan.acknowledgement == "cool" and not (plan.facts or plan.concern):
            out.append((1, "ack", COOL[i]))
        for fid in plan.facts:
            out.append((8, f"fact:{fid}", getattr(pack.fact(fid).answers, plan.style)))
        if plan.deflected_facts and not plan.facts and not plan.concern:
            out.append((7, "deflect", pick(pack.uncovered.deflect, n)))
        if plan.concern:
            out.append((8, f"concern:{plan.concern}", pack.concern(plan.concern).disclosure))
        if plan.uncovered:
            out.append((7, f"uncovered:{plan.uncovered}", pick(getattr(pack.uncovered, plan.uncovered), n)))
        if plan.opportunity:
            out.append((6, f"opportunity:{plan.opportunity}", pack.opportunity(plan.opportunity).line))
        if plan.patient_question:
            out.append((5, f"question:{plan.patient_question}",
                        next(q.text for q in pack.patient_questions if q.id == plan.patient_question)))
        if plan.closing:
            out.append((4, "closing", CLOSING[i]))
        if not out or all(p <= 2 for p, _, _ in out) and not plan.greeting:
            out.append((3, "filler", FILLER.get(plan.act, FILLER["other"])[i]))
        return out

    def parts(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> list[tuple[int, str]]:
        """(priority, sentence-group) in speaking order; lower priority is dropped first."""
        return [(p, t) for p, _, t in self.labelled_parts(pack, plan, state)]

    def kept_parts(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> list[tuple[int, str, str]]:
        """The labelled parts the reply keeps within the persona's sentence limit."""
        parts = self.labelled_parts(pack, plan, state)
        limit = pack.emotion.max_reply_sentences
        # the planner budgeted the content; only content-free extras (priority <= 4) are dropped
        while sum(len(split_sentences(t)) for _, _, t in parts) > limit:
            extras = [k for k in range(len(parts)) if parts[k][0] <= 4]
            if not extras or len(parts) == 1:
                break
            parts.pop(min(extras, key=lambda k: parts[k][0]))
        return parts

    def realise(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> str:
        return " ".join(t for _, _, t in self.kept_parts(pack, plan, state))

    def stream(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> Iterator[str]:
        yield from split_sentences(self.realise(pack, plan, state))
