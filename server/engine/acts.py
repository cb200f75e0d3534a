"""Dialogue-act classification of a learner turn, by phrase and structure rules.

Deterministic on purpose: the act decides how the planner reacts, and an educator must be
able to predict it. Order matters: a turn is the first act whose rule fires.
"""

from __future__ import annotations

import re

from ..core.questions import question_type
from ..core.types import DialogueAct
from ..grading.phrases import PLAN as _PLAN
from ..grading.phrases import SUMMARY as _SUMMARY
from ..grading.phrases import is_courtesy
from .phrasings import OPENING  # opening questions ask for the presenting complaint

_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|nice to meet|my name is|i'm dr|i am dr)\b")
_CHECKING = re.compile(r"\b((does|would|will) (that|this) (sound|work|seem|be)( (ok|okay|all right|alright|reasonable|good|fair|sensible))?|"
                       r"how does (that|this) sound|is (that|this) (ok|okay|all right|alright|right|fair)|(what do you think|how do you feel) "
                       r"about (that|this)|does (that|this) make sense|have i (got|missed) (that|anything)|did i (get|miss) (that|anything))\b")
_CLOSING = re.compile(r"\b(goodbye|bye|see you (next|soon|in)|take care|that's all for today|we'll stop here|thanks for coming in|thank you for coming)\b")
_TEACH_BACK = re.compile(r"\b(in your own words|explain (it )?back|tell me what you('ll| will) (do|tell)|to make sure i explained|what will you tell|can you repeat back|what's your understanding of the plan)\b")
_REASSURE = re.compile(r"\b(don't worry|do not worry|no need to worry|nothing to worry|probably nothing|i'm sure it's (nothing|fine|ok|okay)|you'll be (fine|ok|okay|alright)|everything (will|is going to) be (fine|ok|okay|alright)|it's going to be (fine|ok|okay|alright)|it'll be (fine|ok|okay)|i promise it's|it's nothing serious)\b")
_ADVICE = re.compile(r"\b(you should|you need to|you have to|you must(?! (really |so |surely )?(miss|be|have|feel|find|know|think|wonder|worry|hate|love|wish))|i recommend|i'd recommend|i would recommend|i suggest|i'd suggest|try to|make sure you|it's important that you|i want you to|start taking|stop taking|you ought to)\b")
_EXPLAIN = re.compile(r"\b(this means|that means|is caused by|the (test|result|scan|ecg|blood test)s? (show|shows|showed)|what happens is|the reason is|because your|it's called|we call it|is a condition)\b")


def classify(text: str, *, empathic: bool = False) -> tuple[DialogueAct, str]:
    """Return (act, question type) where question type is 'open', 'closed' or 'none'.

    `empathic` is the grader's judgement that the turn carries a NURSE statement; an
    empathic statement outranks advice or explanation in the same turn.
    """
    low = text.lower().replace("’", "'").strip()
    qtype = question_type(low)
    if _CLOSING.search(low) and not _GREETING.search(low):  # "Hi, I'm Sam. Thanks for coming in." opens
        return DialogueAct.closing, qtype
    if _GREETING.search(low) and qtype == "none" or is_courtesy(low):
        return DialogueAct.greeting, qtype
    if _TEACH_BACK.search(low):
        return DialogueAct.teach_back_request, qtype
    if OPENING.search(low) and qtype == "open":
        return DialogueAct.open_question, qtype
    if _REASSURE.search(low) and not empathic:
        return DialogueAct.reassurance, qtype
    checking = qtype == "none" or bool(_CHECKING.search(low))  # "... Does that sound okay?" still summarises or plans
    if _SUMMARY.search(low) and checking:
        return DialogueAct.summary, qtype
    if _PLAN.search(low) and checking:
        return DialogueAct.plan, qtype
    if empathic and qtype != "closed":
        return DialogueAct.empathic_statement, qtype
    if _REASSURE.search(low):
        return DialogueAct.reassurance, qtype
    if qtype == "open":
        return DialogueAct.open_question, qtype
    if qtype == "closed":
        return DialogueAct.closed_question, qtype
    if _ADVICE.search(low):
        return DialogueAct.advice, qtype
    if empathic:
        return DialogueAct.empathic_statement, qtype
    if _SUMMARY.search(low):
        return DialogueAct.summary, qtype
    if _PLAN.search(low):
        return DialogueAct.plan, qtype
    if _EXPLAIN.search(low) or len(low.split()) > 8:
        return DialogueAct.explanation, qtype
    return DialogueAct.other, qtype
