"""Consistency rules from the coding manuals, applied to any backend's raw prediction.

A statistical head can say "dismissive" and "ECCS 4" at once; the manuals say a dismissal is
ECCS 0. These rules are the ones the seed set obeys (server/grading/data/SEED_README.md,
checked by tests/test_seed_set.py), so a constrained grade is always a grade a human coder
could have given. Feedback is written last, from the final fields.
"""

from __future__ import annotations

from ..core.emotions import compatible
from .base import ALL_FLAGS, ALL_NURSE, Grade, GradeContext
from .feedback import feedback_for

CAP_AT_TWO = ("sympathy_only", "false_understanding", "assumption_or_stereotype")


def accuracy_of(named: str | None, ctx: GradeContext) -> bool | None:
    """Named family fits the patient's feeling (or another they show now); None if none named."""
    if named is None or not ctx.patient_emotion:
        return None
    return any(compatible(named, e) for e in [ctx.patient_emotion, *ctx.also_accept])


NOT_IN_A_PLAN = frozenset({"advice_before_exploring", "premature_reassurance", "topic_switch", "sympathy_only"})


def constrain(g: Grade, ctx: GradeContext, *, write_feedback: bool = True, courtesy: bool = False,
              plan: bool = False) -> Grade:
    """Return a copy of `g` that obeys the caps and cross-field rules. `courtesy`: the turn is
    only a greeting or courtesy (`phrases.is_courtesy`): no ECCS and no penalty, even when an
    opening is there (the opening stays open for the next turn). `plan`: a summary or a plan
    (`phrases.is_plan_or_summary`) with no opening to answer is not advice, reassurance or a
    change of subject."""
    flags = [f for f in ALL_FLAGS if f in set(g.flags) and f != "interrupted"]
    if courtesy:
        flags = []
    if plan and not ctx.opportunity_id:
        flags = [f for f in flags if f not in NOT_IN_A_PLAN]
    if ctx.interrupted:
        flags.append("interrupted")
    nurse = [t for t in ALL_NURSE if t in set(g.nurse)]
    ep = g.epitome.model_copy()
    eccs = g.eccs
    named = g.named_emotion
    accuracy = accuracy_of(named, ctx)

    # NURSE 'name' exactly when a feeling is attributed to the patient
    if named is not None and "name" not in nurse:
        nurse.insert(0, "name")
    if named is None and "name" in nurse:
        nurse.remove("name")

    if not ctx.opportunity_id or courtesy:
        eccs = None
        flags = [f for f in flags if f != "topic_switch"]
    else:
        eccs = 2 if eccs is None else eccs
        if "dismissive" in flags:
            eccs = 0
        if set(flags) & set(CAP_AT_TWO):
            eccs = min(eccs, 2)
        if "premature_reassurance" in flags and "explore" not in nurse:
            eccs = min(eccs, 2)
        if accuracy is False:
            eccs = min(eccs, 4)
        if "topic_switch" in flags:
            eccs = min(eccs, 1)
        if eccs <= 2 and "explore" in nurse:
            # after an opportunity, inviting more is at least ECCS 3 (a continuer); a reply the
            # level says did not take the feeling up asked about something else, e.g. history
            nurse.remove("explore")
        if eccs == 5 and "understand" not in nurse:
            nurse.append("understand")  # legitimising is NURSE 'understand'
    # EPITOME fields stay as the backend gave them: they are scored against EPITOME raters, and
    # cross-scheme edits here (ECCS 6 -> strong interpretation, ...) would make them mean
    # something else than what the EPITOME cross-validation measures.

    space = g.space
    if eccs is not None and eccs >= 3:
        space = "provides"
    elif eccs == 0:
        space = "reduces"

    out = g.model_copy(update={
        "eccs": eccs, "nurse": [t for t in ALL_NURSE if t in nurse], "flags": flags, "epitome": ep, "space": space,
        "empathic_accuracy": accuracy,
        "confidence": g.confidence.model_copy(update={"eccs": g.confidence.eccs if eccs is not None else None}),
    })
    if write_feedback:
        out.feedback = feedback_for(out, ctx)
    return out
