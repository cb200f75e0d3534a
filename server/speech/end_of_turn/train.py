"""Rebuild the text model's artefact from the shared dialogues (`bedside turn train`).

Deterministic: the examples are fixed by hashes (`examples`), the fit is Newton's method, and
embeddings are cached on disk by content. The penalty C is chosen on the dev split; the final
model is fitted on train + dev; the frozen test split is scored once, after every choice,
and its figures are written into the meta for the record.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

from ...core.embedding import Embedder, default_embedder
from . import artefact
from .examples import UTTERANCES_PER_SPLIT, Example, build_examples, fingerprint
from .features import LEXICAL_NAMES, embedding_input, feature_rows
from .hand_cases import hand_cases
from .logistic import fit_logistic, predict_proba, scores

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
DEFAULT_CACHE = Path("/tmp/bedside-eot-cache")
BATCH = 64


def embed_cached(texts: list[str], embedder: Embedder, cache_dir: Path | None) -> np.ndarray:
    """Embeddings of `texts`, from `cache_dir` when this exact list was embedded before."""
    key = hashlib.sha1("\x1e".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"eot-{key}.npy" if cache_dir else None
    if path and path.exists():
        return np.load(path)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        out[idx] = embedder.embed([texts[j] for j in idx])
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def matrix(examples: list[Example], embedder: Embedder, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    texts = [e.text for e in examples]
    emb = embed_cached([embedding_input(t) for t in texts], embedder, cache_dir)
    return feature_rows(texts, emb), np.array([e.complete for e in examples], dtype=np.float64)


def train(shared: Path, out: Path = artefact.DATA_DIR, seed: int = 0, cache_dir: Path | None = DEFAULT_CACHE,
          embedder: Embedder | None = None, report: Callable[[str], None] = print) -> tuple[str, artefact.TextModelMeta]:
    embedder = embedder or default_embedder()
    splits = {s: build_examples(shared, s) for s in UTTERANCES_PER_SPLIT}
    data = {s: matrix(ex, embedder, cache_dir) for s, ex in splits.items()}
    report("examples: " + ", ".join(f"{s} {len(ex)}" for s, ex in splits.items()))

    (Xt, yt), (Xd, yd) = data["train"], data["dev"]
    dev = {}
    for C in C_GRID:
        w, b = fit_logistic(Xt, yt, C)
        dev[C] = scores(yd, predict_proba(Xd, w, b))
        report(f"C={C:g}: dev accuracy {dev[C]['accuracy']:.3f} macro-F1 {dev[C]['macro_f1']:.3f}")
    best = max(C_GRID, key=lambda c: (round(dev[c]["accuracy"], 4), -c))  # ties go to the stronger penalty
    w, b = fit_logistic(np.vstack([Xt, Xd]), np.concatenate([yt, yd]), best)

    Xs, ys = data["test"]
    test = scores(ys, predict_proba(Xs, w, b))
    cases = hand_cases()
    hx = feature_rows([t for t, _ in cases], embedder.embed([embedding_input(t) for t, _ in cases]))
    hand = scores(np.array([d for _, d in cases]), predict_proba(hx, w, b))
    report(f"chosen C={best:g}; frozen test: accuracy {test['accuracy']:.3f} F1 complete {test['f1_complete']:.3f} "
           f"unfinished {test['f1_unfinished']:.3f}; hand-written cases {round(hand['accuracy'] * len(cases))}/{len(cases)}")

    figures = {**{f"dev_{k}": round(v, 4) for k, v in dev[best].items()}, **{f"test_{k}": round(v, 4) for k, v in test.items()},
               "hand_accuracy": round(hand["accuracy"], 4)}
    meta = artefact.TextModelMeta(
        encoder=embedder.name, lexical_names=list(LEXICAL_NAMES), C=best, seed=seed,
        data={s: len(ex) for s, ex in splits.items()}, figures=figures,
        notes=[f"{s} split fingerprint {fingerprint(ex)}" for s, ex in splits.items()]
        + ["fitted on train + dev; C chosen on dev accuracy; test scored once after"])
    version = artefact.save({"w": w.astype(np.float32), "b": np.array(b, dtype=np.float32)}, meta, out)
    return version, meta
