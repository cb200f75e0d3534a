"""The classifier's inputs: a MiniLM embedding of the transcript written as speech recognition
without punctuation would write it, and a few cheap facts about its last words.

Whisper may or may not punctuate, and it often puts a full stop after a partial phrase
("I was wondering."), so a final "." or "!" means nothing here and the embedding never sees
punctuation or case. A final "?", "," or "..." does carry weight and is kept as a lexical feature:
Whisper writes a trailing-off clause with an ellipsis ("and..."), and a cut question with "?"
("When did you first?"), which is why training shows cut examples with those marks too
(`examples.whisper_mark`).
"""

from __future__ import annotations

import re

import numpy as np

CONJUNCTIONS = frozenset("and but or nor so because cause cuz if that which who whom whose when while although though "
                         "than whether since unless until till as where yet then".split())
PREPOSITIONS = frozenset("of to in on at for with about from by into onto like over after before through without "
                         "between under around during against upon toward towards within across along".split())
DETERMINERS = frozenset("a an the my your his her their our its this these those some any every each no another "
                        "what which how much many".split())
HESITATIONS = frozenset("um umm uh uhh er erm hmm mm ah".split())
DISCOURSE = frozenset("so well like okay ok yeah right anyway actually basically".split())
OPENERS = frozenset("i you we they he she it there is are was were am be been being do does did have has had "
                    "can could would should will shall may might must i'm you're we're they're it's there's "
                    "i've you've i'd you'd let's just really very more most also not don't".split())
WH_WORDS = frozenset("what how why when where who which whose".split())

WORD_CLASSES = (("conjunction", CONJUNCTIONS), ("preposition", PREPOSITIONS), ("determiner", DETERMINERS),
                ("hesitation", HESITATIONS), ("discourse", DISCOURSE), ("function_word", OPENERS), ("wh_word", WH_WORDS))
LEXICAL_NAMES = tuple(f"last_{n}" for n, _ in WORD_CLASSES) + tuple(f"second_last_{n}" for n, _ in WORD_CLASSES) + (
    "ends_with_question_mark", "ends_with_comma", "ends_with_ellipsis", "one_word", "two_words", "log_words")

_PUNCT = re.compile(r"[^\w\s']+")
_FINAL_STOP = re.compile(r"(\s*[.!…]+)+$")
_ELLIPSIS = re.compile(r"(\.\.\.|…)\s*$")


def speech_form(text: str) -> str:
    """Lowercase words, no punctuation but apostrophes: how an unpunctuating recogniser writes it."""
    return " ".join(_PUNCT.sub(" ", text.lower().replace("’", "'")).split())


def tail(text: str) -> str:
    """The text less trailing whitespace and any final stop, '!' or ellipsis (see the module note)."""
    return _FINAL_STOP.sub("", text.strip())


def lexical(text: str) -> np.ndarray:
    """The LEXICAL_NAMES features of one transcript, as float32."""
    t = tail(text)
    trails = bool(_ELLIPSIS.search(text.strip()))
    words = speech_form(t).split()
    last = words[-1] if words else ""
    second = words[-2] if len(words) > 1 else ""
    out = [last in s for _, s in WORD_CLASSES] + [second in s for _, s in WORD_CLASSES]
    out += [t.endswith("?"), t.endswith((",", ";", ":", "-", "—")), trails, len(words) == 1, len(words) == 2,
            np.log1p(len(words)) / 4]
    return np.asarray(out, dtype=np.float32)


def feature_rows(texts: list[str], embeddings: np.ndarray) -> np.ndarray:
    """[embedding | lexical] per text; `embeddings` are of `speech_form(tail(text))`."""
    lex = np.stack([lexical(t) for t in texts]) if texts else np.zeros((0, len(LEXICAL_NAMES)), np.float32)
    return np.hstack([np.asarray(embeddings, dtype=np.float32), lex])


def embedding_input(text: str) -> str:
    return speech_form(tail(text))
