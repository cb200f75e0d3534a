"""The seed-set heads' training rows as features (training only): ECCS, NURSE types, flags,
VR-CoDES space and the EPITOME mechanisms on the seed set's train split. The seed TF-IDF
vocabulary is the project's own text, so it ships as words."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import ALL_NURSE, TEXT_FLAGS
from .data_sources import MECHANISMS, SeedRow
from .embedding_cache import EmbeddingCache
from .features import rule_vector
from .linear_fit import fit_linear, fit_tfidf

# Inverse regularisation per head, from 5-fold CV grouped by patient turn on the seed train split.
SEED_C = {"eccs": 10.0, "nurse_support": 10.0, "flag_jargon": 10.0}
SEED_C_DEFAULT = 3.0
SEED_MIN_DF = 2
# Heads that may read whether the patient's turn held an opportunity. The others describe the
# reply's own wording (a NURSE type is a NURSE type whatever came before); the seed set has few
# NURSE statements after neutral turns, and a head left to read the context learns that instead.
CONTEXT_HEADS = frozenset({"eccs", "flag_topic_switch", "space"})
CONTEXT_COLUMNS = ("opp_explicit", "opp_cue", "opp_none", "explored_before")
THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.05), 2)


class SeedBlock:
    """Features of seed rows: dense + rules (+ stacked probabilities) and the lexical TF-IDF."""

    def __init__(self, rows: list[SeedRow], cache: EmbeddingCache, tv=None):
        self.rows = rows
        ctxs = [r.context_for_grading() for r in rows]
        self.dense = np.hstack([cache.dense([r.response for r in rows], [r.context for r in rows]),
                                np.stack([rule_vector(r.response, c) for r, c in zip(rows, ctxs)])])
        self.tv = tv or fit_tfidf([r.response for r in rows], min_df=SEED_MIN_DF)
        self.lex = self.tv.transform([r.response for r in rows])

    def matrix(self, stack: np.ndarray | None = None, dense: np.ndarray | None = None):
        blocks = [sp.csr_matrix(self.dense if dense is None else dense), self.lex]
        if stack is not None:
            blocks.insert(1, sp.csr_matrix(stack))
        return sp.hstack(blocks).tocsr()


def seed_targets(rows: list[SeedRow]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """head name -> (row mask, labels)."""
    opp = np.array([r.eccs is not None for r in rows])
    every = np.ones(len(rows), bool)
    out = {"eccs": (opp, np.array([r.eccs if r.eccs is not None else -1 for r in rows]))}
    for t in ALL_NURSE:
        out[f"nurse_{t}"] = (every, np.array([int(t in r.nurse) for r in rows]))
    for f in TEXT_FLAGS:
        out[f"flag_{f}"] = (opp if f == "topic_switch" else every, np.array([int(f in r.flags) for r in rows]))
    out["space"] = (every, np.array([r.space for r in rows]))
    for m in MECHANISMS:
        out[f"ep_{m}"] = (every, np.array([getattr(r.epitome, m) for r in rows]))
    return out


def best_threshold(X, y: np.ndarray, mask: np.ndarray, folds, C: float, seed: int) -> float:
    """The F1-best decision threshold on out-of-fold probabilities of the training rows
    (class weighting pushes rare flags over 0.5 too easily)."""
    oof = np.full(len(y), np.nan)
    for tr, te in folds:
        tr, te = tr[mask[tr]], te[mask[te]]
        if len(set(y[tr])) < 2 or not len(te):
            continue
        oof[te] = fit_linear(X[tr], y[tr], C, seed).predict_proba(X[te])[:, 1]
    ok = ~np.isnan(oof)
    def f1(t: float) -> float:
        p, g = oof[ok] >= t, y[ok] == 1
        return 2 * (p & g).sum() / max(1, p.sum() + g.sum())
    return float(max(THRESHOLDS, key=lambda t: (f1(t), -abs(t - 0.5))))
