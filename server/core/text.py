"""Text utilities every part of the server shares: one sentence splitter and one stop-word list.

One definition each, so that the grader, the patient's retrieval, the realiser's checker and
speech all agree on where a sentence ends and on which words carry no content.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (closing quotes or brackets stay with it) before whitespace, or
# at a line break. "Dr." and the like do not end one.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "approx"})

# Words that carry no content in any reading the server makes of a turn: articles, pronouns,
# auxiliaries, prepositions, conjunctions, question words, negation and the commonest fillers.
# Modules that need more (the grounding checker's conversational words, retrieval's function
# words in every form) extend this set under their own name, never copy it.
STOP_WORDS = frozenset(
    "the a an and or but to of in on at for with is are was were be been it this that i you he she they we me my your our "
    "his her their them us so if as not no do does did have has had just like get got can could would will really very all "
    "what when how why who there here about from by up out one more some any than then too also its it's i'm don't can't".split())


# Spoken contractions a learner (or the speech recogniser) writes that the written forms the
# patterns and the embedder know do not cover: "d'you", "how long's it been", "whereabouts".
_SPOKEN = [(re.compile(p, re.I), w) for p, w in (
    (r"\bd'?you\b", "do you"), (r"\bd'ya\b", "do you"), (r"\bdya\b", "do you"),
    (r"\b(how long|how much|how often|what|who|where|when|how)'s (it|that|this|he|she|they|there|you) been\b", r"\1 has \2 been"),
    (r"\b(how long|how much|how often|what|who|where|when|how)'ve\b", r"\1 have"),
    (r"\b(think|reckon|suppose)'s\b", r"\1 is"), (r"\bwhereabouts\b", "where"), (r"\bya\b", "you"),
    (r"\b(what|who|where|how|when|why)'re\b", r"\1 are"), (r"\bgonna\b", "going to"), (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"), (r"\bkinda\b", "kind of"), (r"\bsorta\b", "sort of"),
)]


def written(text: str) -> str:
    """The turn with spoken contractions written out ("d'you reckon" as "do you reckon"), so a
    question's form is read the same however it was typed or transcribed."""
    text = text.replace("’", "'")
    for pattern, repl in _SPOKEN:
        text = pattern.sub(repl, text)
    return text


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in `text`, surrounding whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in [*_END.finditer(text), None]:
        end = m.end() if m else len(text)
        if m and m.group() != "\n" and _is_abbreviation(text[start:m.start()]):
            continue
        piece = text[start:end]
        if piece.strip():
            spans.append((start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())))
        start = end
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped; [] for a text without any."""
    return [text[a:b] for a, b in sentence_spans(text)]


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
    return word.rstrip(".") in _ABBREVIATIONS


def stem(word: str) -> str:
    """A crude stem, enough to match "rashes"/"rash", "smoking"/"smoke", "allergies"/"allergic"."""
    if word.endswith("ings") and len(word) >= 7:  # "readings" -> "reading" -> "read", as "reading" does
        word = word[:-1]
    for suffix in ("ies", "ing", "ed", "es", "s", "ic", "y", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# Hesitation sounds a speaker (or Whisper) puts between words: "who you live with, and, um, how
# you got here?". They carry nothing, and they split the phrases the patient's readings look for.
_FILLER = re.compile(r"(?i)(?:\s*,)?\s*\b(?:u+m+|u+h+m*|e+r+m+|e+r+|h+m+)\b(?:\s*[,.…]+)?(?=\s|$)")
# A self-repair: "... at all - sorry, I mean, have you tried anything at home?". The marker says
# nothing; what follows it may be the question meant, or may narrow the one before it.
_REPAIR = re.compile(r"(?i)[\s,\u2014\u2013-]*\b(?:sorry,?\s+)?(?:what\s+)?i\s+mean(?:\s+is|\s+to\s+say)?\b[,:]?\s+|"
                     r"[\s,\u2014\u2013-]*\b(?:or rather|let me (?:rephrase(?: that)?|put (?:it|that) (?:another|a better) way))\b[,:]?\s+")
# A repair that is a question of its own, pointing back at nothing before it ("has anyone else
# had it?" points back; "have you tried anything at home?" does not).
_WHOLE_QUESTION = re.compile(r"(?i)^(?:have|has|do|does|did|are|is|was|were|can|could|would|will|any)\b|"
                             r"^(?:how|what|when|where|who|which|why)\b\s+(?:\w+\s+){0,2}(?:you|your|anyone|anything)\b")
_POINTS_BACK = re.compile(r"(?i)\b(it|that|this|they|them|he|she|him|her|those|these)\b")


def _repair(text: str) -> re.Match | None:
    """The last self-repair marker with a question after it, not opening the turn."""
    for m in reversed(list(_REPAIR.finditer(text))):
        if len(text[m.end():].split()) >= 2 and text[:m.start()].strip():
            return m  # a marker that ends the turn, or opens it ("I mean, how are you?"), repairs nothing
    return None


def without_disfluencies(text: str) -> str:
    """The turn as the speaker said it, less what carries nothing: hesitation sounds and a
    self-repair's marker ("and, um, how did you get here" reads "and how did you get here")."""
    out = _FILLER.sub("", text)
    while (m := _repair(out)) is not None:
        out = f"{out[:m.start()].rstrip(' ,')}, {out[m.end():].strip()}"
    return re.sub(r"\s{2,}", " ", out).strip() if out != text else text


def repaired_question(text: str) -> str | None:
    """What a self-repair asks, when it is a question of its own that points back at nothing
    ("... at all, sorry, I mean, have you tried anything at home?"), else None: the reader may
    take it in place of the words before it."""
    out = _FILLER.sub("", text)
    if (m := _repair(out)) is None:
        return None
    after = re.sub(r"\s{2,}", " ", out[m.end():]).strip()
    return after if _WHOLE_QUESTION.search(after) and not _POINTS_BACK.search(after) else None
