"""Run-time class probabilities of the EPITOME-dev heads, from the artefact's arrays (numpy only).

Each head averages the class probabilities of its parts (lexical, dense, sentence, and for some
mechanisms a sentence-embedding and an attention-pooling part) and reweights them by per-class
offsets; `epitome_train.EpitomeModel.proba` computes the same numbers in training.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .encoder import kept_sentences
from .features import relation_vector, sentences
from .token_pool import pool_probabilities


def strongest_sentence(sentence_probs: np.ndarray) -> np.ndarray:
    """A reply's sentence-part probabilities: those of its sentence least likely to show nothing
    (no sentence at all: certainly nothing)."""
    if not len(sentence_probs):
        return np.array([1.0, 0.0, 0.0], dtype=np.float64)
    return sentence_probs[int(np.argmin(sentence_probs[:, 0]))]


def mix_epitome(parts: Sequence[np.ndarray], offset: np.ndarray | None) -> np.ndarray:
    """The mean of the parts' class probabilities, reweighted by exp(offset) per class and
    renormalised: still a probability vector, whose argmax is the macro-F1-tuned decision."""
    p = np.mean(np.stack(parts), axis=0)
    if offset is not None:
        p = p * np.exp(np.asarray(offset, dtype=p.dtype))
        p = p / p.sum(axis=-1, keepdims=True)
    return p


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def epitome_probabilities(arrays: dict, tfidf: dict, mech: str, text: str, post: str, lex: np.ndarray,
                          dense: np.ndarray, sent_vecs: np.ndarray | None = None, tokens: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities of the head `epitome_<mech>`: the mean of a lexical part (`lex`, the
    reply's "epitome" TF-IDF row), a dense part (`dense`, the grader's dense + rule vector, with
    `relation_vector` appended here) and a sentence part (`strongest_sentence` over the
    sentences' "epitome_sent" TF-IDF) and, for heads that have one, a sentence-embedding part
    (`.msent`, over `sent_vecs`, the reply's `encoder.sentence_vectors`) and an attention-pooling
    part (`.pool`, over `tokens`, the reply's token states), reweighted by the head's offsets."""
    name = f"epitome_{mech}"

    def part(p: str, x: np.ndarray) -> np.ndarray:
        return _softmax_rows(x @ arrays[f"{name}.{p}.W"].T + arrays[f"{name}.{p}.b"])

    d = np.concatenate([dense, relation_vector(text, post)])
    s = strongest_sentence(part("sent", tfidf["epitome_sent"].transform(sentences(text))))
    parts = [part("lex", lex), part("dense", d), s]
    if f"{name}.msent.W" in arrays:
        parts.append(strongest_sentence(part("msent", kept_sentences(sent_vecs))))
    if f"{name}.pool.W" in arrays:
        parts.append(pool_probabilities(arrays, f"{name}.pool.", [tokens])[0])
    return mix_epitome(parts, arrays.get(f"{name}.offset"))
