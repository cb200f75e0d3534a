"""Emotion words, their families, and who a named emotion is attributed to.

Used by the grader (NURSE 'name', empathic accuracy) and by the planner (corrections such
as "I'm not angry, I'm scared"). Families match `persona.schema.Emotion`.
"""

from __future__ import annotations

import re

FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "fear": ("scared", "frightened", "afraid", "fear", "fearful", "worried", "worry", "worrying", "anxious", "anxiety",
             "nervous", "terrified", "panicky", "panicked", "frightening", "scary", "terrifying", "uneasy", "apprehensive"),
    "sadness": ("sad", "sadness", "feeling down", "feeling low", "so down", "grief", "grieving", "heartbroken", "devastated", "depressed",
                "miserable", "unhappy", "heartbreaking", "bereft", "mourning"),
    "anger": ("angry", "anger", "furious", "mad", "annoyed", "irritated", "livid", "cross", "outraged", "resentful", "fuming", "seething"),
    "frustration": ("frustrated", "frustrating", "frustration", "fed up", "exasperated", "exasperating", "let down"),
    "shame": ("ashamed", "embarrassed", "embarrassing", "shame", "humiliated", "humiliating"),
    "guilt": ("guilty", "guilt", "to blame", "blame yourself", "your fault"),
    "overwhelm": ("overwhelmed", "overwhelming", "stressed", "stressful", "swamped", "too much", "exhausted", "drained"),
    "loneliness": ("lonely", "alone", "isolated", "loneliness"),
    "relief": ("relieved", "relief"),
}
# Families a patient would accept as close enough (anger and frustration shade into each other).
COMPATIBLE: dict[str, set[str]] = {
    "anger": {"frustration"}, "frustration": {"anger"},
    "shame": {"guilt"}, "guilt": {"shame"},
    "sadness": {"loneliness"}, "loneliness": {"sadness"},
    "overwhelm": {"fear"}, "fear": {"overwhelm"},
}
# How the patient says the feeling in a correction: "I'm not angry, I'm scared."
ADJECTIVE = {
    "fear": "scared", "sadness": "sad", "anger": "angry", "frustration": "frustrated", "shame": "ashamed",
    "guilt": "guilty", "overwhelm": "overwhelmed", "loneliness": "lonely", "relief": "relieved", "calm": "calm",
}
# Words that acknowledge a feeling without naming which (ECCS 3 acknowledgment, no accuracy claim).
GENERIC_FEELING = re.compile(r"\b(upset|hard|difficult|tough|rough|a lot to (deal with|take in|carry)|distressing|painful|awful time)\b")

_WORD_TO_FAMILY = {w: fam for fam, words in FAMILY_WORDS.items() for w in words}
_EMO_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _WORD_TO_FAMILY), key=len, reverse=True)) + r")\b")
# Attribution to the patient: "you sound scared", "it sounds frightening", "are you feeling anxious".
_ATTRIB_RE = re.compile(
    r"\b(you|you're|youre|you've|you'd|your|sounds?|sounding|seem|seems|must be|must have been|feel|feeling|felt|"
    r"that's|thats|that is|that was|it's|this is|i can see|i sense|i hear|i notice)\b"
)
_NEGATED_RE = re.compile(r"\b(don't|dont|do not|no need to|nothing to|not|never|shouldn't|no reason to)\s+(be\s+|get\s+|feel\s+)?$")
# Asking what the worry is explores a concern; it does not name the patient's feeling:
# "what worries you?", "is there something you're worried this could be?", "anything worrying you about it?"
_CONCERN_Q_RE = re.compile(
    r"\b(what|which|anything|something|any)\b[^.?!]{0,30}\b(worr(y|ies|ied|ying)|concern(s|ed|ing)?)\b[^.?!]*\?|"
    r"\b(worr(y|ies|ied|ying)|concerns?)\b[^.?!]{0,12}\b(about|that|this|it|could|might)\b[^.?!]*\?"
)
_SELF_RE = re.compile(r"\b(i'm|i am|i was|i feel|i'd feel|i'd be|i would be|i get)\s+(so\s+|really\s+|very\s+|a bit\s+)?$")


def voiced_emotions(text: str) -> list[str]:
    """The emotion families a speaker puts into words about themselves ("I'm fuming", "scared
    stiff"), in order, skipping negated ones ("not scared"): what a patient line says it feels."""
    low = text.lower().replace("’", "'")
    return [_WORD_TO_FAMILY[m.group(1)] for m in _EMO_RE.finditer(low)
            if not _NEGATED_RE.search(low[max(0, m.start() - 40): m.start()])]


def named_emotions(text: str) -> list[tuple[str, str]]:
    """(word, family) pairs the speaker attributes to the listener, in order of appearance.

    "Don't worry" is reassurance and "I'm worried about your sugar" is the doctor's own
    feeling; neither names the patient's emotion, so both are skipped. Nor does a question
    about what the worry is ("Is there something you're worried this could be?"): that
    explores a concern.
    """
    low = text.lower().replace("’", "'")
    concern_q = [c.span() for c in _CONCERN_Q_RE.finditer(low)]
    found = []
    for m in _EMO_RE.finditer(low):
        before = low[max(0, m.start() - 40): m.start()]
        if _NEGATED_RE.search(before) or _SELF_RE.search(before):
            continue
        if _WORD_TO_FAMILY[m.group(1)] == "fear" and m.group(1).startswith("worr") and any(a <= m.start() < b for a, b in concern_q):
            continue  # a question about what the worry is: exploring a concern, not naming fear
        if m.group(1).startswith("worr") and re.match(r"\s+(about|that|if|whether|this|it|you|you're|your|they|they're|he|she|we|i|i'm)\b",
                                                      low[m.end():]):
            continue  # "you worry about being in the way", "do you worry you're a burden?": the concern, not a named feeling
        if not _ATTRIB_RE.search(before) and not _ATTRIB_RE.search(low[m.end(): m.end() + 12]):
            continue
        found.append((m.group(1), _WORD_TO_FAMILY[m.group(1)]))
    return found


def voiced_emotions(text: str) -> set[str]:
    """Feeling families the speaker voices about themselves ("I'm angry", "it scares me"):
    every emotion word not negated just before it."""
    low = text.lower().replace("’", "'")
    return {_WORD_TO_FAMILY[m.group(1)] for m in _EMO_RE.finditer(low)
            if not _NEGATED_RE.search(low[max(0, m.start() - 40): m.start()])}


def mentions_generic_feeling(text: str) -> bool:
    return bool(GENERIC_FEELING.search(text.lower()))


def compatible(named: str, actual: str | None) -> bool:
    if actual is None:
        return True
    return named == actual or named in COMPATIBLE.get(actual, set())
