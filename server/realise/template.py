"""The template realiser: the reply is assembled from the pack's own lines.

Deterministic and always available; model realisers fall back to it. Besides pack lines
it uses only short content-free phrases (greetings, thanks, "I'll try"), never facts.
"""

from __future__ import annotations

import re

from ..core.emotions import ADJECTIVE
from ..core.text import split_sentences
from ..core.types import ContentPlan, SessionState, answer_style
from ..persona.schema import PersonaPack
from .base import Realiser

# (guarded, neutral, open): interchangeable wordings of each content-free move; the reply takes
# one the patient has not said lately (`choose`), so the patient does not sound like a loop.
GREETING = (("Hello.", "Hi."), ("Hello, doctor.", "Hi, doctor."),
            ("Hello, doctor. Thank you for seeing me.", "Hello. Thanks for seeing me."))
WARM = (("Thank you.", "Thanks."), ("Thank you for saying that.", "That's kind of you.", "Thanks. That means something."),
        ("Thank you. That really helps.", "It helps to hear that.", "Thank you. I needed someone to say that."))
WARM_INDIRECT = (("You are kind.", "That is kind."), ("You are very kind to ask.", "That is kind of you."),
                 ("You are very kind. It helps, talking like this.", "It is good of you to listen."))
COOL = (("Right.", "Hm."), ("Okay.", "Right."), ("Okay.", "I see."))
CLOSING = (("Okay. Bye.", "Bye, then."), ("Thank you, doctor.", "Thanks, doctor. Bye."),
           ("Thank you, doctor. This really helped.", "Thank you. I feel better for talking."))
FILLER = {
    "advice": (("Easier said than done.", "Maybe."), ("I'll try.", "I can try that."), ("Okay, I'll try that.", "That's worth a go. I'll try.")),
    "explanation": (("Okay.", "Right."), ("I see.", "Okay, I follow."), ("Okay, that makes sense.", "Right, that helps me understand.")),
    "summary": (("Yes.", "That's right."), ("Yes, that's right.", "That's about it.", "Yes, that sums it up."),
                ("Yes, that's it exactly.", "That's right. It helps to hear it put together.", "Yes. You've understood.")),
    "plan": (("Okay.", "All right."), ("Okay, that sounds sensible.", "All right. Thank you."),
             ("That sounds like a plan. Thank you.", "Okay. It's good to know what happens next.")),
    "reassurance": (("If you say so.", "Maybe."), ("I hope you're right.", "I hope so."), ("I hope so.", "That's good to hear.")),
    "teach_back_request": (("I think so.", "I'll try."), ("I'll do my best.", "I think I can."), ("Yes, I think I've got it.", "Yes, I can do that.")),
    "empathic_statement": (("Mm.", "Yeah."), ("Yes. It's been hard.", "It has, yes.", "Yeah. It really has."),
                           ("Yes. Thank you for listening.", "It has. It's good to be heard.", "Yes. Thank you for noticing.")),
    "questions_invited": (("No.", "No, that's all."), ("No, I think that's everything.", "No, that's it, thanks."),
                          ("No, you've answered everything. Thank you.", "No, I think that's everything. Thank you.")),
    "other": (("Mm.", "Okay."), ("Okay.", "Mm, okay."), ("Okay.", "All right.")),
}
RECENT_TURNS = 6  # patient replies a content-free wording should not repeat
REACTION_MOVES = {"empathic_statement": "empathy", "summary": "summary", "plan": "plan"}  # act -> pack `reactions` key


def all_phrases(pack: PersonaPack | None = None) -> list[str]:
    """Every content-free wording the template may use (the grounding check licenses them),
    the pack's own reaction lines included."""
    groups = (GREETING, WARM, WARM_INDIRECT, COOL, CLOSING, *FILLER.values())
    out = [w for group in groups for style in group for w in style]
    if pack is not None:
        r = pack.reactions
        for band in (*r.empathy.values(), r.summary, r.plan):
            out += [*band.guarded, *band.neutral, *band.open]
    return out


def pack_reaction(pack: PersonaPack, move: str, style: str, emotion: str | None) -> list[str]:
    """The pack's own wordings for a content-free move ("empathy", "summary", "plan") in this
    trust band, for the empathy the patient's current emotion first; [] when the pack has none."""
    r = pack.reactions
    if move == "empathy":
        for key in (emotion, "any"):
            band = next((b for k, b in r.empathy.items() if getattr(k, "value", k) == key), None)
            if band is not None and getattr(band, style):
                return getattr(band, style)
        return []
    band = getattr(r, move, None)
    return list(getattr(band, style)) if band is not None else []


def choose(options, state: SessionState | None, turn_index: int) -> str:
    """A wording not among the patient's last RECENT_TURNS replies when there is one; varies by
    turn, deterministic."""
    recent = " ".join(t for who, t in (state.history if state is not None else [])[-2 * RECENT_TURNS:] if who == "patient")
    fresh = [o for o in options if o not in recent] or list(options)
    return fresh[turn_index % len(fresh)]


def said_before(answer: str, pack: PersonaPack) -> str:
    """A fact given on an earlier turn, referred back to rather than recited. The first word is
    lower-cased unless the pack writes it with a capital mid-sentence too (a name, a month):
    "Like I said, a couple of weeks." but "Like I said, March." """
    first = answer.split(" ", 1)[0].strip(".,!?")
    keep = first == "I" or first.startswith("I'") or first in _proper_nouns(pack)
    return "Like I said, " + (answer if keep else answer[:1].lower() + answer[1:])


def _proper_nouns(pack: PersonaPack) -> set[str]:
    """Words the pack capitalises after the start of a sentence."""
    text = " ".join([pack.visit.opening_line, *(a for f in pack.facts for a in (f.answers.guarded, f.answers.neutral, f.answers.open)),
                     *(c.disclosure for c in pack.hidden_concerns)])
    return set(re.findall(r"(?<=[a-z,;] )([A-Z][a-z]+)", text))


_STYLE_INDEX = {"guarded": 0, "neutral": 1, "open": 2}


def pick(options: list[str], turn_index: int, state: SessionState | None = None) -> str:
    """Deterministic choice that varies from turn to turn (and avoids recent replies)."""
    return choose(options, state, turn_index)


def correction_line(pack: PersonaPack, named: str, actual: str) -> str:
    wrong, right = ADJECTIVE.get(named, named), ADJECTIVE.get(actual, actual)
    if pack.identity.cultural_expression.value == "indirect":
        return f"Oh, I wouldn't say {wrong}. I am just a little {right}, I suppose."
    return f"I'm not {wrong}. I'm {right}."


_TITLE = re.compile(r"^(mr|mrs|ms|miss|mx|dr)\.?\s+", re.I)


def identity_line(pack: PersonaPack, kind: str) -> str:
    """The patient's age or name as they would say it ("I'm 46.", "Daniel Reyes.")."""
    if kind == "age":
        return f"I'm {pack.identity.age}."
    return _TITLE.sub("", pack.identity.name).strip() + "."


class TemplateRealiser(Realiser):
    name = "template"

    def labelled_parts(self, pack: PersonaPack, plan: ContentPlan, state: SessionState) -> list[tuple[int, str, str]]:
        """(priority, kind, sentence-group) in speaking order; lower priority is dropped first.

        `kind` names the plan item a group words ("fact:<id>", "concern:<id>", "opportunity:<id>",
        "question:<id>", "risk:<kind>", "correction", "uncovered:deny|unsure", "deflect") or a content-free
        move ("greeting", "ack", "closing", "filler"); the grounding check uses it.
        """
        i = _STYLE_INDEX[plan.style]
        n = plan.turn_index
        out: list[tuple[int, str, str]] = []
        if plan.greeting:
            out.append((2, "greeting", choose(GREETING[i], state, n)))
        if plan.correction:
            out.append((9, "correction", correction_line(pack, plan.correction, plan.correction_to or pack.emotion.primary.value)))
        move = REACTION_MOVES.get(plan.act)
        if move == "empathy" and plan.asked:
            move = None  # "Yeah. I'm fed up." does not answer "What worries you most?"
        own = pack_reaction(pack, move, plan.style, plan.emotion) if move else []  # the pack's words for this move
        reacted = False
        if plan.acknowledgement == "warm" and not plan.greeting:
            warm = WARM_INDIRECT if pack.identity.cultural_expression.value == "indirect" else WARM
            out.append((1, "ack", choose(own or warm[i], state, n)))
            reacted = bool(own)
        elif move == "empathy" and own and plan.acknowledgement != "cool" and not plan.greeting and (plan.facts or plan.concern):
            # the pack's own reaction before the patient goes on ("Yeah. It is a bit scary.")
            out.append((1, "ack", choose(own, state, n)))
            reacted = True
        elif plan.acknowledgement == "cool" and not (plan.facts or plan.concern):
            out.append((1, "ack", choose(COOL[i], state, n)))
        if plan.risk and plan.risk not in plan.facts:  # a pack's own fact on the risk says it instead
            out.append((9, f"risk:{plan.risk}", getattr(pack.risk, plan.risk)))
        if plan.identity:
            out.append((8, f"identity:{plan.identity}", identity_line(pack, plan.identity)))
        for fid in plan.facts:
            if fid in plan.repeated_facts:
                out.append((8, f"fact:{fid}", said_before(pack.fact(fid).answers.guarded, pack)))
            else:
                out.append((8, f"fact:{fid}", getattr(pack.fact(fid).answers, answer_style(plan, fid))))
        if plan.deflected_facts and not plan.facts and not plan.concern:
            out.append((7, "deflect", pick(pack.uncovered.deflect, n, state)))
        if plan.concern and plan.repeated_concern:
            out.append((8, f"concern:{plan.concern}", said_before(split_sentences(pack.concern(plan.concern).disclosure)[0], pack)))
        elif plan.concern:
            out.append((8, f"concern:{plan.concern}", pack.concern(plan.concern).disclosure))
        if plan.uncovered:
            out.append((7, f"uncovered:{plan.uncovered}", pick(getattr(pack.uncovered, plan.uncovered), n, state)))
        if plan.opportunity:
            opp = pack.opportunity(plan.opportunity)
            again = state is not None and state.times_raised.get(opp.id, 0) > 1 and opp.again
            out.append((6, f"opportunity:{plan.opportunity}", choose(opp.again, state, n) if again else opp.line))
        if plan.patient_question:
            out.append((5, f"question:{plan.patient_question}",
                        next(q.text for q in pack.patient_questions if q.id == plan.patient_question)))
        if plan.closing:
            out.append((4, "closing", choose(CLOSING[i], state, n)))
        if (not out or all(p <= 2 for p, _, _ in out) and not plan.greeting) and not reacted:
            out.append((3, "filler", choose(own or FILLER.get(plan.act, FILLER["other"])[i], state, n)))
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
