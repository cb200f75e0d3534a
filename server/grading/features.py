"""Text features of one learner turn for the trained grader, computed without a model.

- the sentence and word splitting every part shares (training and run time must cut a reply
  the same way);
- rules: every phrase and structure rule of `rules.rule_signals`, as numbers;
- dense: how the reply's MiniLM embeddings (`encoder`) are laid out with the patient turn's
  (element-wise product and cosine), so a head can tell a reply that takes up what the patient
  said from one that moves away;
- relation: cheap counts of how an EPITOME-dev reply relates to the post it answers.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..core.emotions import compatible
from ..core.text import STOP_WORDS, split_sentences
from .base import GradeContext
from .rules import rule_signals

_WORD = re.compile(r"[a-z0-9']+")

RULE_BOOLS = ("understand", "respect", "support", "explore", "legitimise", "shared", "sympathy", "false_understanding",
              "reassure", "dismissive", "advice", "stereotype", "jargon", "perfunctory", "ack_generic", "name", "acknowledges")
RULE_NAMES = (*RULE_BOOLS, "q_open", "q_closed", "q_none", "overlap", "named_wrong", "named_right", "opp_explicit", "opp_cue",
              "opp_none", "explored_before", "log_words", "n_sentences", "n_questions", "i_share", "you_share", "ends_question")


def sentences(text: str) -> list[str]:
    """The reply's sentences; a text without any counts as one sentence."""
    return split_sentences(text) or [text.strip() or "."]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams: the analyzer shared by training (sklearn) and run time."""
    w = words(text)
    return w + [f"{a} {b}" for a, b in zip(w, w[1:])]


def rule_vector(text: str, ctx: GradeContext) -> np.ndarray:
    """The rule grader's verdicts plus a few structural counts, in RULE_NAMES order."""
    s = rule_signals(text, ctx)
    named = s["named"][0][1] if s["named"] else None
    right = named is not None and ctx.patient_emotion is not None and any(
        compatible(named, e) for e in [ctx.patient_emotion, *ctx.also_accept])
    w = words(text)
    n = max(1, len(w))
    sents = sentences(text)
    kind = ctx.opportunity_kind if ctx.opportunity_id else None
    values = [float(bool(s[k])) for k in RULE_BOOLS] + [
        float(s["qtype"] == "open"), float(s["qtype"] == "closed"), float(s["qtype"] == "none"),
        float(s["overlap"]),
        float(named is not None and not right), float(right),
        float(kind == "explicit"), float(kind == "cue"), float(kind is None),
        float(ctx.explored_before),
        math.log1p(len(w)) / 4.0,
        min(len(sents), 8) / 4.0,
        min(text.count("?"), 4) / 2.0,
        sum(x in ("i", "i'm", "i've", "i'd", "i'll", "me", "my") for x in w) / n * 4,
        sum(x in ("you", "you're", "you've", "you'd", "your", "yourself") for x in w) / n * 4,
        float(text.rstrip().endswith("?")),
    ]
    return np.asarray(values, dtype=np.float32)



def dense_block(reply: np.ndarray, reply_max: np.ndarray, context: np.ndarray) -> np.ndarray:
    """[reply, sentence-max reply, reply*context, cosine]; works on one row or a matrix."""
    cos = (reply * context).sum(-1, keepdims=True)
    return np.concatenate([reply, reply_max, reply * context * 4.0, cos], axis=-1).astype(np.float32)



# ------------------------------------------------------------------ the reply's relation to the post it answers


# Content words a reply shares with the seeker's post, in the sentences where the responder speaks
# of themself (shared experience: interpretations) or asks (a specific question: explorations).
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|myself)\b")
RELATION_NAMES = ("first_person_sentences", "first_person_share", "first_person_shared_words", "shared_words",
                  "questions", "longest_question", "question_content_words", "question_shared_words")


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP_WORDS and len(w) > 2}


def relation_vector(text: str, post: str) -> np.ndarray:
    """Cheap features of the reply's relation to the post it answers, in RELATION_NAMES order:
    how much of the reply is about the responder (and about what the post is about), and how
    long and how specific its questions are."""
    sents = sentences(text)
    pc = _content(post)
    first = [s for s in sents if _FIRST_PERSON.search(s.lower().replace("’", "'"))]
    asks = [s for s in sents if "?" in s]
    return np.array([
        math.log1p(len(first)), len(first) / len(sents),
        math.log1p(sum(len(_content(s) & pc) for s in first)),
        math.log1p(len(_content(text) & pc)),
        math.log1p(len(asks)),
        math.log1p(max([len(s.split()) for s in asks] or [0])),
        math.log1p(max([len(_content(s)) for s in asks] or [0])),
        math.log1p(sum(len(_content(s) & pc) for s in asks)),
    ], dtype=np.float32)

