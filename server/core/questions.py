"""Open, closed or no question: how a turn asks, by its last question (AnnoMI / MI coding).

Shared by the dialogue-act classifier and the graders, so both read a question the same way.
"""

from __future__ import annotations

import re

from .text import split_sentences

# A request to go through part of the patient's history, not the doctor's plan or results.
REQUEST = re.compile(r"^\s*(and\s+|so\s+|now,?\s+|okay,?\s+|right,?\s+)?(i'd like to|i would like to|i want to|i need to|i'm going to|i am going to|"
                     r"can i|could i|may i|let me|let's|let us|we'll|we will)\s+(just\s+|quickly\s+|briefly\s+)?"
                     r"(go|run|talk|ask|look|check) (through|over|about|at|you about|what|whether|which|how) "
                     r"(?!.*\b(plan|results?|options|next steps?|treatment|tests? (we|i)|scans?|referral|what (we|i)('ll| will) do|what happens (next|now))\b)")
_OPEN_Q = re.compile(r"^\s*(and\s+|so\s+|okay,?\s+|right,?\s+)?(what|how|why|tell me|describe|could you tell me|can you tell me|would you tell me|can you describe|could you describe|talk me through|walk me through|help me understand)\b")
_CLOSED_WH = re.compile(r"^\s*(and\s+|so\s+|okay,?\s+|right,?\s+)?(how (long|many|much|often|old|far|bad)|what (time|dose|day|year|number)|when|where|which|who)\b")
_AUX_Q = re.compile(r"^\s*(and\s+|so\s+|okay,?\s+|right,?\s+)?(do|does|did|is|are|was|were|have|has|had|can|could|will|would|should|any|anything|ever)\b")
_INDIRECT_Q = re.compile(r"^\s*(and\s+|so\s+|now,?\s+|okay,?\s+|right,?\s+)?(i was wondering|i wonder|i'd like to (know|ask|hear)|i would like to (know|ask|hear)|"
                         r"i need to (know|ask)|i want to (know|ask)|can i ask|could i ask|may i ask|i'm curious|i was going to ask|remind me)\b"
                         # a request to go through part of the history asks for it: "I'd like to run through your medicines."
                         r"|" + REQUEST.pattern)


def question_type(text: str) -> str:
    """Open or closed by the last question in the turn (AnnoMI / MI coding convention)."""
    low = text.lower().replace("’", "'")
    sentences = split_sentences(low)
    questions = [s for s in sentences if s.endswith("?")]
    if not questions:
        questions = [s for s in sentences if re.search(r"(^|[,;:]\s*|\b(so|and|okay|right|now|first|then)\s+)"
                                                       r"(tell me|describe|talk me through|walk me through|help me understand|show me|point to)\b", s)]
        if not questions:
            # an indirect question ("I was wondering how you're managing") asks all the same
            indirect = [s for s in sentences if _INDIRECT_Q.match(s)]
            if not indirect:
                return "none"
            return "open" if re.search(r"\b(how|what|why)\b", indirect[-1]) else "closed"
    q = questions[-1]
    # the question proper is the last clause that opens like one ("Hello, what brings you in?")
    for clause in reversed([c.strip() for c in re.split(r"[,;:]\s+|\s+-\s+", q) if c.strip()]):
        if _CLOSED_WH.match(clause):
            return "closed"
        if _OPEN_Q.match(clause):
            return "open"
        if _AUX_Q.match(clause):
            return "closed"
    return "closed"
