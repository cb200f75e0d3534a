"""The fitting steps every trained head shares (training only, sklearn): TF-IDF vocabularies,
class-balanced logistic regressions stored as plain arrays, grouped folds and macro-F1."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .features import ngrams


def fit_tfidf(texts: Sequence[str], *, min_df: int = 1, max_features: int | None = None,
              analyzer: Callable[[str], list] = ngrams) -> TfidfVectorizer:
    """Sublinear TF-IDF over `analyzer`'s terms (`ngram_tfidf.Tfidf` gives the same numbers at run time)."""
    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=min_df, max_features=max_features).fit(texts)


def columns(tv: TfidfVectorizer) -> list:
    """The vectorizer's terms in column order."""
    return [t for t, _ in sorted(tv.vocabulary_.items(), key=lambda kv: kv[1])]


def fit_linear(X, y: np.ndarray, C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed).fit(X, y)


def store(arrays: dict, name: str, clf: LogisticRegression) -> None:
    arrays[f"{name}.W"] = clf.coef_.astype(np.float32)
    arrays[f"{name}.b"] = clf.intercept_.astype(np.float32)


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int = 3) -> float:
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm)
    return float(np.mean(2 * tp / np.maximum(1, cm.sum(0) + cm.sum(1))))


def grouped_folds(groups: Sequence[str], n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds keeping every group (a seeker post, a patient turn) in one fold; the same seed gives the same folds."""
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    np.random.RandomState(seed).shuffle(uniq)
    fold_of = {g: i % n for i, g in enumerate(uniq)}
    f = np.array([fold_of[g] for g in groups])
    return [(np.where(f != k)[0], np.where(f == k)[0]) for k in range(n)]

