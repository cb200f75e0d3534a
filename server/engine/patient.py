"""The patient engine: understand -> grade -> update state -> plan -> realise.

One `Engine` serves every session (it holds the models); per-session memory is a
`SessionState` value, so a turn is a pure function of (state, learner text) and a
session can be persisted and resumed from its last state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..core.embedding import Embedder
from ..core.emotions import voiced_emotions
from ..core.types import ContentPlan, DialogueAct, SessionState, TurnResult
from ..grading.base import Grade, GradeContext, Grader
from ..grading.rules import rule_signals
from ..persona.loader import PackRegistry
from ..persona.schema import PersonaPack
from ..realise.base import Realisation, Realiser
from ..realise.template import TemplateRealiser
from ..timing import Laps
from . import state as emotional
from .acts import classify
from .planner import plan_turn
from .retrieval import PackIndex

HISTORY_TURNS = 12
EARLIER_TURNS = 8  # the patient's turns before the last one that the grader reads as their complaint and context


def earlier_words(pack: PersonaPack, s: SessionState) -> str:
    """The opening line and the patient's recent turns before their last one."""
    said = [text for who, text in s.history if who == "patient"]
    if said and said[-1] == s.last_patient_text:
        said = said[:-1]
    return " ".join([pack.visit.opening_line, *said[-EARLIER_TURNS:]])


class Engine:
    def __init__(self, registry: PackRegistry, embedder: Embedder, grader: Grader, realiser: Realiser | None = None):
        self.registry = registry
        self.embedder = embedder
        self.grader = grader
        self.realiser = realiser or TemplateRealiser()
        self.fallback = TemplateRealiser()
        self._indexes: dict[str, PackIndex] = {}

    def pack(self, persona_id: str) -> PersonaPack:
        return self.registry.get(persona_id)

    def index(self, pack: PersonaPack) -> PackIndex:
        index = self._indexes.get(pack.id)
        if index is None or index.pack is not pack:  # a pack edited and reloaded is indexed afresh
            index = self._indexes[pack.id] = PackIndex(pack, self.embedder)
        return index

    def warm(self) -> None:
        """Embed every pack's questions (and load a model realiser) now, so the first learner turn is not slow."""
        for pack in self.registry.packs.values():
            self.index(pack)
        self.realiser.warm()

    def start(self, persona_id: str) -> tuple[SessionState, str]:
        """A fresh session and the patient's opening words (with any opening cue)."""
        pack = self.pack(persona_id)
        s = SessionState(persona_id=pack.id, pack_version=self.registry.version(pack.id), emotional=emotional.initial_state(pack))
        words = [pack.visit.opening_line]
        for opp in pack.empathic_opportunities:
            if opp.trigger.on == "opening":
                words.append(opp.line)
                s.raised_opportunities.append(opp.id)
                s.unanswered_cues.append(opp.id)
                s.raised_at[opp.id] = 0
                s.pending_opportunity = opp.id
                break
        text = " ".join(words)
        self.grader.prefetch(text)
        s.last_patient_text = text
        s.history.append(("patient", text))
        return s, text

    def grade_context(self, pack: PersonaPack, s: SessionState, interrupted: bool = False,
                      opportunity_id: str | None = None) -> GradeContext:
        """What the grader needs: the patient's last words and feeling, and the opportunity
        (if any) those words held. The feeling is the opportunity's, else the persona's.
        Any feeling the patient has voiced or shown is accepted too (the persona's own, every
        opportunity's, a passing irritation, what the patient's own words said, and what its
        hidden concerns are about, since a patient keeping a worry back is still worried), so the
        patient never "corrects" a feeling it has itself expressed or is hiding."""
        oid = opportunity_id or s.pending_opportunity
        opp = pack.opportunity(oid) if oid else None
        emotion = opp.emotion.value if opp else pack.emotion.primary.value
        shown = {s.emotional.emotion, pack.emotion.primary.value, *(o.emotion.value for o in pack.empathic_opportunities)}
        for c in pack.hidden_concerns:
            shown |= voiced_emotions(f"{c.id.replace('_', ' ')}. {c.concern}. {c.disclosure}")
        for who, said in [("patient", pack.visit.opening_line), *s.history]:
            if who == "patient":
                shown |= voiced_emotions(said)
        return GradeContext(
            patient_turn=s.last_patient_text,
            patient_emotion=emotion,
            also_accept=sorted(e for e in shown if e not in (emotion, "calm", "relief")),
            opportunity_id=opp.id if opp else None,
            opportunity_kind=opp.kind if opp else None,
            earlier=earlier_words(pack, s),
            explored_before=bool(s.explored or s.acknowledged),
            interrupted=interrupted,
        )

    def _shared_vector(self, text: str, patient_turn: str):
        """The learner turn's embedding from the grader, when grader and retrieval use the same
        model: the grader encodes the turn once (and keeps it for its own call), retrieval reuses it."""
        if self.grader.embedder_name is not None and self.grader.embedder_name == getattr(self.embedder, "name", None):
            return self.grader.reply_vector(text, patient_turn)
        return None

    def play(self, persona_id: str, lines: list[str]) -> tuple[SessionState, list[TurnResult], str]:
        """A scripted conversation from the start: (final state, each turn's result, the opening)."""
        state, opening = self.start(persona_id)
        results = []
        for line in lines:
            result, state = self.respond(state, line)
            results.append(result)
        return state, results, opening

    def respond(self, s: SessionState, text: str, *, interrupted: bool = False) -> tuple[TurnResult, SessionState]:
        """Run one learner turn. Returns the result and the new state; `s` is not modified."""
        pending = self.begin_turn(s, text, interrupted=interrupted)
        laps = Laps()
        # a model realiser's words are generated and checked, else the template's with a reason
        out = self.realiser.realise_checked(pending.pack, pending.plan, pending.state)
        out.timings_ms = {"realise": laps.lap("realise"), **{f"realise_{k}": v for k, v in out.timings_ms.items()}}
        return self.complete_turn(pending, out)

    def begin_turn(self, s: SessionState, text: str, *, interrupted: bool = False) -> "PendingTurn":
        """Everything up to the content plan: understand, grade, update the state, plan.

        Split from the wording so a streaming caller (the voice pipeline with a model
        realiser) can commit the graded turn first and speak checked sentences as they come.
        """
        pack = self.pack(s.persona_id)
        laps = Laps()
        vector = self._shared_vector(text, s.last_patient_text)
        about = pack.fact(s.disclosed_facts[-1]).topic if s.disclosed_facts else None
        index = self.index(pack)
        found = index.search(text, vector=vector, about=about, about_id=s.disclosed_facts[-1] if s.disclosed_facts else None)
        found = replace(found, concerns_by_nearness=index.concerns_by_nearness(text, vector))
        laps.lap("understand")
        ctx = self.grade_context(pack, s, interrupted)
        grade: Grade = self.grader.grade(text, ctx)
        if ctx.opportunity_id is None and s.unanswered_cues and grade.nurse:
            # a late answer to a cue the patient raised earlier: credit it if it acknowledges
            late_ctx = self.grade_context(pack, s, interrupted, opportunity_id=s.unanswered_cues[0])
            late = self.grader.grade(text, late_ctx)
            if (late.eccs or 0) >= 3:
                ctx, grade = late_ctx, late
        act, _ = classify(text, empathic=counts_as_empathic(grade, ctx) or acknowledges_feeling(text, grade, ctx))
        laps.lap("grade")

        new = s.model_copy(deep=True)
        new.turn_index += 1
        new.history.append(("learner", text))
        if interrupted:
            new.interruptions += 1
        if ctx.opportunity_id and grade.eccs is not None:
            if grade.eccs >= 3 and ctx.opportunity_id not in new.acknowledged:
                new.acknowledged.append(ctx.opportunity_id)
            if (grade.eccs >= 4 or "explore" in grade.nurse) and ctx.opportunity_id not in new.explored:
                new.explored.append(ctx.opportunity_id)
            if grade.eccs >= 3 and ctx.opportunity_id in new.unanswered_cues:
                new.unanswered_cues.remove(ctx.opportunity_id)
        new.emotional, signal = emotional.update(pack, s.emotional, grade, len(new.unanswered_cues), act.value)
        laps.lap("state")
        plan, new = plan_turn(pack, new, act, grade, found, signal)
        laps.lap("plan")
        return PendingTurn(pack=pack, before=s, state=new, text=text, act=act, grade=grade, plan=plan, timings_ms=laps.ms)

    def planned_words(self, pending: "PendingTurn") -> str:
        """The template wording of the plan: what is said if a model's words are not used."""
        return self.fallback.realise(pending.pack, pending.plan, pending.state)

    def complete_turn(self, pending: "PendingTurn", out: "Realisation") -> tuple[TurnResult, SessionState]:
        """Record the words the patient says (`out`) and return the turn's result and new state."""
        s, new = pending.before, pending.state.model_copy(deep=True)
        reply = out.text
        self.grader.prefetch(reply)  # the next turn is graded against these words
        new.last_patient_text = reply
        new.history.append(("patient", reply))
        new.history = new.history[-2 * HISTORY_TURNS:]
        disclosed = [f for f in new.disclosed_facts if f not in s.disclosed_facts] + \
                    [c for c in new.revealed_concerns if c not in s.revealed_concerns]
        timings = {**pending.timings_ms, **out.timings_ms}
        timings["total"] = round(sum(timings.get(k, 0.0) for k in ("understand", "grade", "state", "plan", "realise")), 3)
        result = TurnResult(
            turn_index=new.turn_index, learner_text=pending.text, act=pending.act, grade=pending.grade,
            state_before=s.emotional, state_after=new.emotional, plan=pending.plan, disclosed=disclosed, reply=reply,
            realiser=out.realiser, fallback_reason=out.fallback_reason, rejected_reply=out.rejected,
            timings_ms=timings,
        )
        return result, new


@dataclass
class PendingTurn:
    """A graded and planned turn whose words are not yet chosen (see Engine.begin_turn)."""

    pack: PersonaPack
    before: SessionState
    state: SessionState
    text: str
    act: DialogueAct
    grade: Grade
    plan: ContentPlan
    timings_ms: dict[str, float] = field(default_factory=dict)


def acknowledges_feeling(text: str, grade: Grade, ctx: GradeContext) -> bool:
    """A plain statement the phrase rules see acknowledging a feeling ("That must be a lot to
    carry."): with no cue open the grader gives few NURSE types, but to the patient it is still
    an empathic statement, not an explanation."""
    return grade.question_type == "none" and not set(grade.flags) - {"interrupted", "jargon"} \
        and bool(rule_signals(text, ctx)["acknowledges"])


def counts_as_empathic(grade: Grade, ctx: GradeContext) -> bool:
    """Whether the turn is an empathic statement for the planner (outranking a question).

    Any NURSE statement without a negative flag counts, except an exploring question on its own
    after a turn with no empathic opportunity: that is history-taking, which the patient
    answers from the pack. Inviting more after an opportunity (ECCS 3+) still counts.
    """
    if not grade.nurse or set(grade.flags) - {"interrupted", "jargon"}:
        return False
    if set(grade.nurse) == {"explore"} and not ctx.opportunity_id and grade.epitome.emotional_reactions == 0:
        return False
    return True
