"""The patient engine: understand -> grade -> update state -> plan -> realise.

One `Engine` serves every session (it holds the models); per-session memory is a
`SessionState` value, so a turn is a pure function of (state, learner text) and a
session can be persisted and resumed from its last state.
"""

from __future__ import annotations

import time

from ..grading.base import Grade, GradeContext, Grader
from ..persona.loader import PackRegistry
from ..persona.schema import PersonaPack
from ..realise.base import Realiser
from ..realise.template import TemplateRealiser
from . import state as emotional
from .acts import classify
from .embedding import Embedder
from .planner import plan_turn
from .retrieval import PackIndex
from .types import SessionState, TurnResult

HISTORY_TURNS = 12


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
        if pack.id not in self._indexes:
            self._indexes[pack.id] = PackIndex(pack, self.embedder)
        return self._indexes[pack.id]

    def warm(self) -> None:
        """Embed every pack's questions (and load a model realiser) now, so the first learner turn is not slow."""
        for pack in self.registry.packs.values():
            self.index(pack)
        warm = getattr(self.realiser, "warm", None)
        if warm is not None:
            warm()

    def start(self, persona_id: str) -> tuple[SessionState, str]:
        """A fresh session and the patient's opening words (with any opening cue)."""
        pack = self.pack(persona_id)
        s = SessionState(persona_id=pack.id, emotional=emotional.initial_state(pack))
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
        if hasattr(self.grader, "prefetch"):
            self.grader.prefetch(text)
        s.last_patient_text = text
        s.history.append(("patient", text))
        return s, text

    def grade_context(self, pack: PersonaPack, s: SessionState, interrupted: bool = False,
                      opportunity_id: str | None = None) -> GradeContext:
        """What the grader needs: the patient's last words and feeling, and the opportunity
        (if any) those words held. The feeling is the opportunity's, else the persona's;
        a passing irritation the learner provoked is accepted too."""
        oid = opportunity_id or s.pending_opportunity
        opp = pack.opportunity(oid) if oid else None
        emotion = opp.emotion.value if opp else pack.emotion.primary.value
        current = s.emotional.emotion
        return GradeContext(
            patient_turn=s.last_patient_text,
            patient_emotion=emotion,
            also_accept=[e for e in {current, pack.emotion.primary.value} if e not in (emotion, "calm", "relief")],
            opportunity_id=opp.id if opp else None,
            opportunity_kind=opp.kind if opp else None,
            explored_before=bool(s.explored or s.acknowledged),
            interrupted=interrupted,
        )

    def _shared_vector(self, text: str, patient_turn: str):
        """The learner turn's embedding from the grader, when grader and retrieval use the same
        model: the grader encodes the turn once (and keeps it for its own call), retrieval reuses it."""
        if getattr(self.grader, "embedder_name", None) == getattr(self.embedder, "name", None) and hasattr(self.grader, "reply_vector"):
            return self.grader.reply_vector(text, patient_turn)
        return None

    def respond(self, s: SessionState, text: str, *, interrupted: bool = False) -> tuple[TurnResult, SessionState]:
        """Run one learner turn. Returns the result and the new state; `s` is not modified."""
        pack = self.pack(s.persona_id)
        clock = time.perf_counter
        t0 = clock()
        vector = self._shared_vector(text, s.last_patient_text)
        found = self.index(pack).search(text, vector=vector)
        t1 = clock()
        ctx = self.grade_context(pack, s, interrupted)
        grade: Grade = self.grader.grade(text, ctx)
        if ctx.opportunity_id is None and s.unanswered_cues and grade.nurse:
            # a late answer to a cue the patient raised earlier: credit it if it acknowledges
            late_ctx = self.grade_context(pack, s, interrupted, opportunity_id=s.unanswered_cues[0])
            late = self.grader.grade(text, late_ctx)
            if (late.eccs or 0) >= 3:
                ctx, grade = late_ctx, late
        positive = bool(grade.nurse) and not (set(grade.flags) - {"interrupted", "jargon"})
        act, _ = classify(text, empathic=positive)
        t2 = clock()

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
        new.emotional, signal = emotional.update(pack, s.emotional, grade, len(new.unanswered_cues))
        t3 = clock()
        plan = plan_turn(pack, new, act, grade, found, signal)
        t4 = clock()
        checked = getattr(self.realiser, "realise_checked", None)
        realiser_name, fallback_reason, rejected, extra_ms = getattr(self.realiser, "name", "template"), None, None, {}
        if checked is not None:  # a model realiser: generated, checked, else the template with a reason
            out = checked(pack, plan, new)
            reply, realiser_name, fallback_reason, rejected = out.text, out.realiser, out.fallback_reason, out.rejected
            extra_ms = {f"realise_{k}": v for k, v in out.timings_ms.items()}
        else:
            reply = self.realiser.realise(pack, plan, new)
        t5 = clock()

        if hasattr(self.grader, "prefetch"):
            self.grader.prefetch(reply)  # the next turn is graded against these words
        new.last_patient_text = reply
        new.history.append(("patient", reply))
        new.history = new.history[-2 * HISTORY_TURNS:]
        disclosed = [f for f in new.disclosed_facts if f not in s.disclosed_facts] + \
                    [c for c in new.revealed_concerns if c not in s.revealed_concerns]
        ms = lambda a, b: round((b - a) * 1000, 3)
        result = TurnResult(
            turn_index=new.turn_index, learner_text=text, act=act, grade=grade,
            state_before=s.emotional, state_after=new.emotional, plan=plan, disclosed=disclosed, reply=reply,
            realiser=realiser_name, fallback_reason=fallback_reason, rejected_reply=rejected,
            timings_ms={"understand": ms(t0, t1), "grade": ms(t1, t2), "state": ms(t2, t3), "plan": ms(t3, t4),
                        "realise": ms(t4, t5), "total": ms(t0, t5), **extra_ms},
        )
        return result, new
