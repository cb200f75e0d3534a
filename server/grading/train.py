"""Train the grader's heads and write the artefact (`bedside grade train`).

Reproducible: a fixed seed, a fixed order of rows, deterministic solvers (lbfgs) and fixed
hyperparameters (chosen by cross-validation on the seed set's *train* split and on
EPITOME-dev folds before anything was measured on the held-out test split; see
docs/grading.md). Embeddings are cached on disk, so retraining costs about two minutes.

Heads and data:
- seed set, train split only (the test split is never read here): ECCS, NURSE types, flags,
  VR-CoDES space, and the EPITOME mechanisms as they apply to clinical replies;
- EPITOME-dev (shared data, optional): one head per mechanism on its support replies (Reddit posts);
  their probabilities are stacked into the seed EPITOME heads, which is how the mechanism
  heads are calibrated on both sources.

A seed head is one linear model over the dense, rule and TF-IDF features (plus the stacked
EPITOME-dev probabilities for the mechanism heads). An EPITOME-dev head averages the class
probabilities of three linear parts: a lexical part over the reply's TF-IDF (of hashed n-grams,
`ngram_tfidf`: the artefact ships no EPITOME-dev text), a dense part over
embeddings, rule features and the reply's relation to the post, and a sentence part (TF-IDF of
each sentence, trained on the raters' rationale sentences; a reply takes its sentence least
likely to show nothing), and for interpretations a sentence-embedding part (the same, over each
sentence's MiniLM layer-4 token mean) and an attention pooling of the reply's layer-4 token
states (`token_pool`). Averaging views beat one model on the concatenation in EPITOME-dev
cross-validation. The average is then reweighted by per-class offsets chosen for macro-F1 on
out-of-fold probabilities of the training rows (`epitome_train.fit_epitome`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from .artefact import MODEL_DIR, ArtefactMeta, HeadMeta, save
from .base import TEXT_FLAGS
from .data_sources import MECHANISMS, SeedRow, load_epitome, load_real_labels, load_seed, real_rows, shared_dir
from .embedding_cache import DEFAULT_CACHE, EmbeddingCache
from .encoder import REPLY_MAX_TOKENS, SENT_LAYER
from .epitome_train import EPITOME_C, EPITOME_SENT_EMBED, EPITOME_TOKEN_POOL, EpitomeBlock, epitome_arrays, fit_epitome
from .features import RULE_NAMES, relation_vector
from .linear_fit import columns, fit_linear, grouped_folds, store
from .seed_train import CONTEXT_COLUMNS, CONTEXT_HEADS, SEED_C, SEED_C_DEFAULT, SeedBlock, best_threshold, seed_targets

log = logging.getLogger(__name__)


def train(*, seed: int = 0, shared: Path | None = None, use_shared: bool = True, out: Path | None = MODEL_DIR,
          cache_dir: Path | None = DEFAULT_CACHE, rows: list[SeedRow] | None = None, pair: bool = True,
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
    if pairs:
        report(f"EPITOME-dev: {len(pairs)} pairs")
        fitted = fit_epitome(EpitomeBlock(pairs, cache), np.arange(len(pairs)), seed)
        arrays.update(epitome_arrays(fitted))
        for m in fitted.heads:
            heads[f"epitome_{m}"] = HeadMeta(block="epitome", kind="multiclass", classes=[0, 1, 2], C=EPITOME_C["dense"],
                                             trained_on="epitome-dev", rows=len(pairs))
            report(f"epitome_{m}: offsets {fitted.offsets[m].round(2).tolist()}")
        notes.append("epitome_* heads: mean of a reply TF-IDF LR, a MiniLM+rules+relation LR and a sentence TF-IDF LR "
                     "(TF-IDF over crc32 buckets of word 1-2-grams, epitome*.buckets, so no EPITOME-dev text is stored; "
                     f"and for {', '.join(sorted(EPITOME_SENT_EMBED))} a MiniLM layer-{SENT_LAYER} sentence LR, epitome_*.msent; "
                     f"for {', '.join(sorted(EPITOME_TOKEN_POOL))} an attention pooling of layer-{SENT_LAYER} token states, "
                     "epitome_*.pool.*); "
                     "per-class log offsets (epitome_*.offset) chosen on 5-fold out-of-fold probabilities")
        data["epitome_dev"] = len(pairs)
    else:
        fitted = None
        notes.append("EPITOME-dev not used: mechanism heads trained on the seed set alone")
        report("EPITOME-dev not found; training on the seed set alone")

    sb = SeedBlock(rows, cache)
    vocab = {"seed": columns(sb.tv)}
    arrays["seed.idf"] = sb.tv.idf_.astype(np.float32)
    if fitted:
        # EPITOME-dev heads never saw a seed row, so their probabilities on seed rows are honest features
        # (the same numbers as epitome_heads.epitome_probabilities computes at run time)
        replies = [r.response for r in rows]
        rdense = np.hstack([sb.dense, np.stack([relation_vector(r.response, r.context) for r in rows])])
        svecs, toks = cache.sentence_vectors(replies), cache.token_states(replies)
        stack = np.hstack([fitted.proba(m, replies, rdense, svecs, toks) for m in MECHANISMS]).astype(np.float32)
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
                               classes=classes, C=C, stack=[f"epitome_{m}" for m in MECHANISMS] if use_stack else [],
                               threshold=best_threshold(X, y, mask, folds, C, seed) if binary else 0.5,
                               trained_on="seed train split", rows=int(mask.sum()))
    pair_meta = None
    if pair:
        # the pair model: seed train rows plus the real-dialogue labels' train split (never the test split)
        real = real_rows(load_real_labels("train"), shared_dir(shared)) if use_shared and _has_dialogues(shared_dir(shared)) else []
        data["real_train"] = len(real)
        from .pair_train import PairTrainer
        pair_arrays, pair_meta = PairTrainer(cache.encoder.embedder, TEXT_FLAGS, seed, report).fit(rows + real)
        arrays.update(pair_arrays)
        notes.append(f"pair model (pair_model.py): MiniLM layers {pair_meta['frozen']}+ fine-tuned on {pair_meta['rows']} pairs "
                     f"(seed train + real-dialogue train), ASR-noised copies; it decides ECCS, NURSE, flags and space")
    meta = ArtefactMeta(seed=seed, encoder="all-MiniLM-L6-v2", reply_max_tokens=REPLY_MAX_TOKENS, rule_names=list(RULE_NAMES),
                        vocab=vocab, heads=heads, data=data, notes=notes, pair=pair_meta,
                        base_version="trained-2.0" if pair_meta else "trained-1.0")
    version = save(arrays, meta, Path(out)) if out else None
    if version:
        report(f"wrote {out} ({version})")
    return arrays, meta, version


def _has_dialogues(shared: Path) -> bool:
    return (shared / "aci-bench").is_dir() and (shared / "mts-dialog").is_dir()
