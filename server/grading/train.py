"""Train the grader's heads and write the artefact (`bedside grade train`).

Reproducible: a fixed seed, a fixed order of rows, deterministic solvers (lbfgs) and fixed
hyperparameters (chosen by cross-validation on the seed set's *train* split and on
EPITOME-dev folds before anything was measured on the held-out test split; see
docs/grading.md). Embeddings are cached on disk, so retraining costs seconds.

Heads and data:
- seed set, train split only (the test split is never read here): ECCS, NURSE types, flags,
  VR-CoDES space, and the EPITOME mechanisms as they apply to clinical replies;
- EPITOME-dev (shared data, optional): one head per mechanism on Reddit support replies;
  their probabilities are stacked into the seed EPITOME heads, which is how the mechanism
  heads are calibrated on both sources.

A head is one or two linear parts whose class probabilities are averaged: a lexical part
over the reply's TF-IDF and a dense part over embeddings and rule features. Averaging two
views beat one model on the concatenation in EPITOME-dev cross-validation.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .artefact import MODEL_DIR, ArtefactMeta, HeadMeta, save
from .base import ALL_FLAGS, ALL_NURSE
from .data_sources import MECHANISMS, EpitomePair, SeedRow, load_epitome, load_seed, shared_dir
from .features import REPLY_MAX_TOKENS, RULE_NAMES, TextEncoder, dense_block, ngrams, rule_vector

log = logging.getLogger(__name__)

TEXT_FLAGS = tuple(f for f in ALL_FLAGS if f != "interrupted")
# Inverse regularisation per head, from 5-fold CV grouped by patient turn on the seed train split.
SEED_C = {"eccs": 10.0, "nurse_support": 10.0, "flag_jargon": 10.0}
SEED_C_DEFAULT = 3.0
REDDIT_C = {"lex": 3.0, "dense": 1.0}
SEED_MIN_DF = 2
# Heads that may read whether the patient's turn held an opportunity. The others describe the
# reply's own wording (a NURSE type is a NURSE type whatever came before); the seed set has few
# NURSE statements after neutral turns, and a head left to read the context learns that instead.
CONTEXT_HEADS = frozenset({"eccs", "flag_topic_switch", "space"})
CONTEXT_COLUMNS = ("opp_explicit", "opp_cue", "opp_none", "explored_before")
THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.05), 2)
REDDIT_MAX_FEATURES = 20000
DEFAULT_CACHE = Path("/tmp/bedside-grader-cache")


# ------------------------------------------------------------------ embeddings, cached on disk

class EmbeddingCache:
    """Dense blocks for (reply, patient turn) lists, cached under `cache_dir` by content hash."""

    def __init__(self, cache_dir: Path | None = DEFAULT_CACHE, encoder: TextEncoder | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._encoder = encoder

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = TextEncoder()
        return self._encoder

    def dense(self, replies: Sequence[str], contexts: Sequence[str]) -> np.ndarray:
        key = hashlib.sha1("\x1e".join(["minilm-segmax", str(REPLY_MAX_TOKENS), *replies, "\x1d", *contexts]).encode()).hexdigest()[:16]
        path = self.cache_dir / f"dense-{key}.npy" if self.cache_dir else None
        if path and path.exists():
            return np.load(path)
        whole, maxed = self.encoder.encode_replies(list(replies))
        uniq = list(dict.fromkeys(contexts))
        cv = dict(zip(uniq, self.encoder.encode(uniq)))
        out = dense_block(whole, maxed, np.stack([cv[c] for c in contexts]))
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, out)
        return out


# ------------------------------------------------------------------ heads

def fit_tfidf(texts: Sequence[str], *, min_df: int = 1, max_features: int | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, min_df=min_df, max_features=max_features).fit(texts)


def vocab_list(tv: TfidfVectorizer) -> list[str]:
    return [t for t, _ in sorted(tv.vocabulary_.items(), key=lambda kv: kv[1])]


def fit_linear(X, y: np.ndarray, C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed).fit(X, y)


def store(arrays: dict, name: str, clf: LogisticRegression) -> None:
    arrays[f"{name}.W"] = clf.coef_.astype(np.float32)
    arrays[f"{name}.b"] = clf.intercept_.astype(np.float32)


def proba(clf: LogisticRegression, X) -> np.ndarray:
    return clf.predict_proba(X)


class SeedBlock:
    """Features of seed rows: dense + rules (+ stacked probabilities) and the lexical TF-IDF."""

    def __init__(self, rows: list[SeedRow], cache: EmbeddingCache, tv: TfidfVectorizer | None = None):
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


# ------------------------------------------------------------------ EPITOME-dev heads

class RedditBlock:
    def __init__(self, pairs: list[EpitomePair], cache: EmbeddingCache, tv: TfidfVectorizer | None = None):
        from .base import GradeContext
        replies = [p.response_post for p in pairs]
        self.dense = np.hstack([cache.dense(replies, [p.seeker_post for p in pairs]),
                                np.stack([rule_vector(p.response_post, GradeContext(patient_turn=p.seeker_post)) for p in pairs])])
        self.tv = tv or fit_tfidf(replies, max_features=REDDIT_MAX_FEATURES)
        self.lex = self.tv.transform(replies)


def fit_reddit_heads(block: RedditBlock, labels: dict[str, np.ndarray], idx: np.ndarray, seed: int) -> dict[str, tuple]:
    """mechanism -> (lexical LR, dense LR), trained on rows `idx`."""
    return {m: (fit_linear(block.lex[idx], y[idx], REDDIT_C["lex"], seed), fit_linear(block.dense[idx], y[idx], REDDIT_C["dense"], seed))
            for m, y in labels.items()}


def reddit_proba(heads: tuple, lex, dense: np.ndarray) -> np.ndarray:
    lex_clf, dense_clf = heads
    return (lex_clf.predict_proba(lex) + dense_clf.predict_proba(dense)) / 2


def grouped_folds(groups: Sequence[str], n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds keeping every group (seeker post) in one fold; the same seed gives the same folds."""
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    np.random.RandomState(seed).shuffle(uniq)
    fold_of = {g: i % n for i, g in enumerate(uniq)}
    f = np.array([fold_of[g] for g in groups])
    return [(np.where(f != k)[0], np.where(f == k)[0]) for k in range(n)]


# ------------------------------------------------------------------ the whole pipeline

def train(*, seed: int = 0, shared: Path | None = None, use_shared: bool = True, out: Path | None = MODEL_DIR,
          cache_dir: Path | None = DEFAULT_CACHE, rows: list[SeedRow] | None = None,
          report: Callable[[str], None] = log.info) -> tuple[dict[str, np.ndarray], ArtefactMeta, str | None]:
    """Fit every head; write the artefact to `out` (None: do not write). Returns (arrays, meta, version)."""
    np.random.seed(seed)
    cache = EmbeddingCache(cache_dir)
    rows = rows if rows is not None else load_seed("train")
    assert all(r.split == "train" for r in rows), "the seed test split is never trained on"
    arrays: dict[str, np.ndarray] = {}
    heads: dict[str, HeadMeta] = {}
    notes: list[str] = []
    data = {"seed_train": len(rows)}

    pairs = load_epitome(shared_dir(shared)) if use_shared else None
    stack = None
    vocab = {}
    if pairs:
        report(f"EPITOME-dev: {len(pairs)} pairs")
        rb = RedditBlock(pairs, cache)
        labels = {m: np.array([p.levels[m] for p in pairs]) for m in MECHANISMS}
        fitted = fit_reddit_heads(rb, labels, np.arange(len(pairs)), seed)
        vocab["epitome"] = vocab_list(rb.tv)
        arrays["epitome.idf"] = rb.tv.idf_.astype(np.float32)
        for m, (lex_clf, dense_clf) in fitted.items():
            store(arrays, f"reddit_{m}.lex", lex_clf)
            store(arrays, f"reddit_{m}.dense", dense_clf)
            heads[f"reddit_{m}"] = HeadMeta(block="epitome", kind="multiclass", classes=[0, 1, 2], C=REDDIT_C["dense"],
                                            trained_on="epitome-dev", rows=len(pairs))
        data["epitome_dev"] = len(pairs)
    else:
        fitted = None
        notes.append("EPITOME-dev not used: mechanism heads trained on the seed set alone")
        report("EPITOME-dev not found; training on the seed set alone")

    sb = SeedBlock(rows, cache)
    vocab["seed"] = vocab_list(sb.tv)
    arrays["seed.idf"] = sb.tv.idf_.astype(np.float32)
    if fitted:
        # Reddit heads never saw a seed row, so their probabilities on seed rows are honest features
        rlex = rb.tv.transform([r.response for r in rows])
        stack = np.hstack([reddit_proba(fitted[m], rlex, sb.dense) for m in MECHANISMS]).astype(np.float32)
    blind = sb.dense.copy()
    base = sb.dense.shape[1] - len(RULE_NAMES)
    blind[:, [base + RULE_NAMES.index(c) for c in CONTEXT_COLUMNS]] = 0.0  # zero columns get zero weights
    folds = grouped_folds([r.context for r in rows], 5, seed)
    for name, (mask, y) in seed_targets(rows).items():
        use_stack = name.startswith("ep_") and stack is not None
        X = sb.matrix(stack if use_stack else None, dense=sb.dense if name in CONTEXT_HEADS else blind)
        C = SEED_C.get(name, SEED_C_DEFAULT)
        clf = fit_linear(X[mask], y[mask], C, seed)
        store(arrays, name, clf)
        classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
        binary = len(classes) == 2 and set(classes) == {0, 1}
        heads[name] = HeadMeta(block="seed", kind="binary" if binary else "multiclass",
                               classes=classes, C=C, stack=[f"reddit_{m}" for m in MECHANISMS] if use_stack else [],
                               threshold=best_threshold(X, y, mask, folds, C, seed) if binary else 0.5,
                               trained_on="seed train split", rows=int(mask.sum()))
    meta = ArtefactMeta(seed=seed, encoder="all-MiniLM-L6-v2", reply_max_tokens=REPLY_MAX_TOKENS, rule_names=list(RULE_NAMES),
                        vocab=vocab, heads=heads, data=data, notes=notes)
    version = save(arrays, meta, Path(out)) if out else None
    if version:
        report(f"wrote {out} ({version})")
    return arrays, meta, version
