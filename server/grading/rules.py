"""The rule-based grader: phrase and structure rules from the coding manuals.

Deterministic and fast; it is the baseline the trained grader is measured against, and
supplies features to it. ECCS levels follow Bylund & Makoul (2002); pity and false
understanding are capped at level 2 as the manuals direct.
"""

from __future__ import annotations

from ..core.emotions import compatible, mentions_generic_feeling, named_emotions, voiced_emotions
from ..core.questions import question_type
from . import phrases as P
from .base import Epitome, Grade, GradeContext, Grader
from .feedback import feedback_for

RULES_VERSION = "rules-1.0"


def rule_signals(text: str, ctx: GradeContext) -> dict:
    """Every rule's verdict on one turn; the trained grader uses these as features too."""
    low = text.lower().replace("’", "'").strip()
    named = named_emotions(low)
    qtype = question_type(low)
    sig = {
        "named": named,
        "qtype": qtype,
        "understand": bool(P.UNDERSTAND.search(low)),
        "respect": bool(P.RESPECT.search(low)),
        "support": bool(P.SUPPORT.search(low)),
        "explore": bool(P.EXPLORE.search(low)),
        "continuer": bool(P.CONTINUER.search(low)),
        "feeling_question": bool(P.FEELING_QUESTION.search(low)),
        "checklist": bool(P.CHECKLIST.search(low)),
        "symptom_question": bool(P.SYMPTOM_QUESTION.search(low)),
        "redirect": bool(P.REDIRECT.search(low)),
        "legitimise": bool(P.LEGITIMISE.search(low)),
        "shared": bool(P.SHARED.search(low)),
        "sympathy": bool(P.SYMPATHY.search(low)),
        "false_understanding": bool(P.FALSE_UNDERSTANDING.search(low)),
        "reassure": bool(P.REASSURE.search(low)),
        "dismissive": bool(P.DISMISSIVE.search(low)),
        "advice": bool(P.ADVICE.search(low)),
        "stereotype": bool(P.STEREOTYPE.search(low)),
        "jargon": bool(P.JARGON.search(low)),
        "perfunctory": bool(P.PERFUNCTORY.match(low)),
        "closing": bool(P.CLOSING.search(low) and P.CLOSING_ASK.search(low)),
        "ack_generic": bool(P.ACK_GENERIC.search(low)) or mentions_generic_feeling(low) and bool(named or P.ACK_GENERIC.search(low)),
        "overlap": P.overlap(low, ctx.patient_turn) if ctx.patient_turn else 0.0,
        "patient_voiced": bool(ctx.patient_turn and voiced_emotions(ctx.patient_turn.lower())),
    }
    if sig["false_understanding"]:
        sig["understand"] = False
    sig["name"] = bool(named)
    sig["acknowledges"] = sig["name"] or sig["understand"] or sig["respect"] or sig["ack_generic"] or sig["legitimise"]
    return sig


class RuleGrader(Grader):
    version = RULES_VERSION

    def grade(self, text: str, ctx: GradeContext) -> Grade:
        s = rule_signals(text, ctx)
        nurse = [t for t in ("name", "understand", "respect", "support", "explore") if s[t]]
        if (s["legitimise"] or (s["ack_generic"] and not s["name"])) and "understand" not in nurse and not s["false_understanding"]:
            nurse.insert(1 if "name" in nurse else 0, "understand")  # validating statements are NURSE 'understand'
        if s["dismissive"]:
            nurse = [t for t in nurse if t != "name"]
        flags: list[str] = []
        if s["sympathy"] and not (s["name"] or s["understand"] or s["explore"] or s["legitimise"] or s["ack_generic"]):
            flags.append("sympathy_only")
        if s["false_understanding"]:
            flags.append("false_understanding")
        explored = ctx.explored_before or s["explore"]
        if s["reassure"] and not ctx.explored_before:
            flags.append("premature_reassurance")
        if s["dismissive"]:
            flags.append("dismissive")
        if s["jargon"]:
            flags.append("jargon")
        if s["advice"] and not explored:
            flags.append("advice_before_exploring")
        if s["stereotype"]:
            flags.append("assumption_or_stereotype")
        if ctx.interrupted:
            flags.append("interrupted")

        courtesy = P.is_courtesy(text)
        if courtesy:
            flags = ["interrupted"] if ctx.interrupted else []
        eccs = None
        if ctx.opportunity_id and not courtesy:
            eccs = self._eccs(s, flags)
            blocking = {"dismissive", "sympathy_only", "false_understanding", "premature_reassurance"} & set(flags)
            if eccs <= 1 and not blocking and not s["reassure"]:
                flags.append("topic_switch")  # the opening was passed over for something else

        named_family = s["named"][0][1] if s["named"] else None
        accuracy = None if named_family is None or not ctx.patient_emotion else any(
            compatible(named_family, e) for e in [ctx.patient_emotion, *ctx.also_accept])
        grade = Grade(
            grader_version=self.version,
            eccs=eccs,
            nurse=nurse,
            flags=flags,
            epitome=self._epitome(s),
            space=self._space(s, flags, eccs),
            question_type=s["qtype"],
            named_emotion=named_family,
            empathic_accuracy=accuracy,
        )
        grade.feedback = feedback_for(grade, ctx)
        return grade

    @staticmethod
    def _eccs(s: dict, flags: list[str]) -> int:
        if "dismissive" in flags:
            return 0
        if s["shared"] and (s["acknowledges"] or s["named"]):
            level = 6
        elif s["legitimise"]:
            level = 5
        elif s["acknowledges"] and (s["explore"] or s["qtype"] == "open") or s["feeling_question"]:
            level = 4  # a question about the feeling or worry itself is acknowledgment and pursuit
        elif s["acknowledges"] or s["support"] or s["shared"]:
            level = 3
        elif s["explore"]:
            level = 3  # pursuing the feeling itself acknowledges it (continuer)
        elif s["sympathy"]:
            level = 2
        elif s["overlap"] >= 0.2 or (s["qtype"] != "none" and not s["checklist"]) or s["qtype"] == "open":
            level = 2  # implicit: takes up the patient's own complaint or context, not the feeling
        elif s["perfunctory"] or s["false_understanding"] or s["reassure"]:
            level = 1  # a token, or a bare reassurance that waves the worry away
        else:
            level = 0
        if "sympathy_only" in flags or "false_understanding" in flags:
            level = min(level, 2)
        if s["reassure"] and not s["explore"]:
            level = min(level, 2)  # "we'll do our best" before exploring: at most 2
        if s["stereotype"]:
            level = min(level, 1)
        return level

    @staticmethod
    def _epitome(s: dict) -> Epitome:
        er = 2 if (s["name"] or s["legitimise"] or s["shared"] or s["ack_generic"]) else 1 if (s["sympathy"] or s["support"]) else 0
        ip = 2 if (s["understand"] and s["overlap"] >= 0.2) or s["shared"] else 1 if (s["understand"] or s["false_understanding"]) else 0
        ex = 0
        if s["qtype"] != "none" or s["explore"]:
            ex = 2 if (s["explore"] and (s["overlap"] >= 0.15 or s["name"])) else 1 if (s["explore"] or s["qtype"] == "open") else 0
        return Epitome(emotional_reactions=er, interpretations=ip, explorations=ex)

    @staticmethod
    def _space(s: dict, flags: list[str], eccs: int | None) -> str:
        if set(flags) & {"dismissive", "topic_switch", "premature_reassurance", "advice_before_exploring"}:
            return "reduces"
        if s["explore"] or s["acknowledges"] or s["qtype"] == "open" or (eccs is not None and eccs >= 3):
            return "provides"
        if eccs is not None and eccs <= 2:
            return "reduces"
        return "neutral"
