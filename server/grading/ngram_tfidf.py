"""Word 1-2-gram TF-IDF of a reply at run time, numpy only (no sklearn at grading time).

Two kinds of column:
- the seed block's columns are its n-grams themselves, a vocabulary stored in the artefact's
  meta (the seed set is the project's own text);
- the EPITOME blocks' columns are hash buckets of n-grams (`ngram_bucket`): EPITOME-dev's terms
  allow no redistribution of its text, so the artefact stores bucket numbers and their idf,
  never an n-gram taken from it.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from typing import Callable, Hashable, Sequence

import numpy as np

from .features import ngrams

# 2^18 buckets: few collisions among the 20,000 kept n-gram buckets, while a bucket still
# stands for many possible n-grams, so the kept bucket numbers do not spell out a word list.
HASH_BITS = 18
# The blocks whose columns are hash buckets (arrays "<block>.buckets" and "<block>.idf").
HASHED_BLOCKS = ("epitome", "epitome_sent")


def ngram_bucket(gram: str) -> int:
    """A stable bucket for an n-gram (crc32, the same on every platform and Python run)."""
    return zlib.crc32(gram.encode("utf-8")) & ((1 << HASH_BITS) - 1)


def hashed_ngrams(text: str) -> list[int]:
    """The buckets of the reply's `ngrams`: the analyzer shared by training and run time for the
    EPITOME blocks."""
    return [ngram_bucket(g) for g in ngrams(text)]


class Tfidf:
    """Sublinear TF-IDF over `analyzer`'s terms, l2-normalised: the same numbers as sklearn's
    TfidfVectorizer(analyzer=analyzer, sublinear_tf=True), from stored columns and idf."""

    def __init__(self, columns: dict[Hashable, int], idf: np.ndarray, analyzer: Callable[[str], list] = ngrams):
        self.columns = columns
        self.idf = np.asarray(idf, dtype=np.float32)
        self.analyzer = analyzer

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        X = np.zeros((len(texts), len(self.columns)), dtype=np.float32)
        for i, t in enumerate(texts):
            for g, c in Counter(self.analyzer(t)).items():
                j = self.columns.get(g)
                if j is not None:
                    X[i, j] = (1.0 + math.log(c)) * self.idf[j]
            n = np.linalg.norm(X[i])
            if n > 0:
                X[i] /= n
        return X


def load_tfidf(arrays: dict[str, np.ndarray], vocab: dict[str, list[str]]) -> dict[str, Tfidf]:
    """Every TF-IDF block of an artefact: those with a stored vocabulary and the hashed ones."""
    out = {block: Tfidf({t: i for i, t in enumerate(terms)}, arrays[f"{block}.idf"]) for block, terms in vocab.items()}
    for block in HASHED_BLOCKS:
        if f"{block}.buckets" in arrays:
            buckets = arrays[f"{block}.buckets"].tolist()
            out[block] = Tfidf({b: i for i, b in enumerate(buckets)}, arrays[f"{block}.idf"], hashed_ngrams)
    return out
