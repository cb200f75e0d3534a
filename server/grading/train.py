"""Train the grader's heads and write the artefact (`bedside grade train`).

Reproducible: a fixed seed, a fixed order of rows, deterministic solvers (lbfgs) and fixed
hyperparameters (chosen by cross-validation on the seed set's *train* split and on
EPITOME-dev folds before anything was measured on the held-out test split; see
docs/grading.md). Embeddings are cached on disk, so retraining costs about two minutes.

Heads and data:
- seed set, train split only (the test split is never read here): ECCS, NURSE types, flags,
  VR-CoDES space, and the EPITOME mechanisms as they apply to clinical replies;
- EPITOME-dev (shared data, optional): one head per mechanism on Reddit support replies;
  their probabilities are stacked into the seed EPITOME heads, which is how the mechanism
  heads are calibrated on both sources.

A seed head is one linear model over the dense, rule and TF-IDF features (plus the stacked
EPITOME-dev probabilities for the mechanism heads). An EPITOME-dev head averages the class
probabilities of three linear parts: a lexical part over the reply's TF-IDF, a dense part over
embeddings, rule features and the reply's relation to the post, and a sentence part (TF-IDF of
each sentence, trained on the raters' rationale sentences; a reply takes its sentence least
likely to show nothing), and for interpretations a sentence-embedding part (the same, over each
sentence's MiniLM layer-4 token mean) and an attention pooling of the reply's layer-4 token
states (`token_pool`). Averaging views beat one model on the concatenation in EPITOME-dev
cross-validation. The average is then reweighted by per-class offsets chosen for macro-F1 on
out-of-fold probabilities of the training rows (`fit_reddit`).
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
from threadpoolctl import threadpool_limits

from .artefact import MODEL_DIR, ArtefactMeta, HeadMeta, save
from .base import ALL_NURSE, TEXT_FLAGS
from .data_sources import MECHANISMS, EpitomePair, SeedRow, load_epitome, load_real_labels, load_seed, real_rows, shared_dir
from .features import (REPLY_MAX_TOKENS, RULE_NAMES, SENT_LAYER, TextEncoder, dense_block, kept_sentences, mix_reddit, ngrams,
                       relation_vector, rule_vector, sentences, strongest_sentence)
from .token_pool import TokenPool, fit_token_pool, rationale_token_labels

log = logging.getLogger(__name__)

# Inverse regularisation per head, from 5-fold CV grouped by patient turn on the seed train split.
SEED_C = {"eccs": 10.0, "nurse_support": 10.0, "flag_jargon": 10.0}
SEED_C_DEFAULT = 3.0
REDDIT_C = {"lex": 3.0, "dense": 1.0, "sent": 3.0, "msent": 0.3}
# Mechanisms whose EPITOME-dev head has a 4th part: an LR over the MiniLM (layer SENT_LAYER)
# embedding of each sentence, trained on the rationale-labelled sentences like the TF-IDF sentence
# part. It raised interpretations in EPITOME-dev cross-validation (docs/grading.md).
REDDIT_SENT_EMBED = frozenset({"interpretations"})
# mechanisms with an attention-pooling part over token states (`token_pool`)
REDDIT_TOKEN_POOL = frozenset({"interpretations"})
# EPITOME-dev decision offsets: a grid of per-class log-probability offsets, chosen on 5-fold
# out-of-fold probabilities inside the training rows (never on rows being evaluated).
REDDIT_OFFSET_GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)
REDDIT_INNER_FOLDS = 5
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
        whole, maxed, _, _ = self.encoder.encode_replies(list(replies))
        uniq = list(dict.fromkeys(contexts))
        cv = dict(zip(uniq, self.encoder.encode(uniq)))
        out = dense_block(whole, maxed, np.stack([cv[c] for c in contexts]))
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, out)
        return out

    def sentence_vectors(self, replies: Sequence[str]) -> list[np.ndarray]:
        """Per reply, its `features.sentence_vectors` (layer SENT_LAYER), cached like `dense`."""
        return self._layer(replies)[0]

    def token_states(self, replies: Sequence[str]) -> list[np.ndarray]:
        """Per reply, its token states at layer SENT_LAYER (`token_pool`), cached like `dense`."""
        return self._layer(replies)[1]

    def _layer(self, replies: Sequence[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Both per-reply layer-SENT_LAYER outputs of one forward pass, cached in one file."""
        key = hashlib.sha1("\x1e".join(["minilm-layer", str(SENT_LAYER), str(REPLY_MAX_TOKENS), *replies]).encode()).hexdigest()[:16]
        path = self.cache_dir / f"layer-{key}.npz" if self.cache_dir else None
        if path and path.exists():
            z = np.load(path)
            return (np.split(z["vecs"], np.cumsum(z["counts"])[:-1]), np.split(z["tokens"], np.cumsum(z["n_tokens"])[:-1]))
        _, _, vecs, tokens = self.encoder.encode_replies(list(replies))
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, vecs=np.concatenate(vecs) if vecs else np.zeros((0, 384), np.float32),
                     counts=np.array([len(v) for v in vecs], dtype=np.int64),
                     tokens=np.concatenate(tokens) if tokens else np.zeros((0, 384), np.float32),
                     n_tokens=np.array([len(t) for t in tokens], dtype=np.int64))
        return vecs, tokens


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
    """EPITOME-dev pairs as features: the dense block (MiniLM + rules + the reply's relation to
    the seeker post), the replies' sentences, and per mechanism each sentence's level (the pair's
    level when the sentence overlaps a rater's rationale span, else 0)."""

    def __init__(self, pairs: list[EpitomePair], cache: EmbeddingCache):
        from .base import GradeContext
        self.replies = [p.response_post for p in pairs]
        self.posts = [p.seeker_post for p in pairs]
        self.groups = np.array([p.sp_id for p in pairs])
        self.levels = {m: np.array([p.levels[m] for p in pairs]) for m in MECHANISMS}
        self.dense = np.hstack([cache.dense(self.replies, self.posts),
                                np.stack([rule_vector(p.response_post, GradeContext(patient_turn=p.seeker_post)) for p in pairs]),
                                np.stack([relation_vector(r, q) for r, q in zip(self.replies, self.posts)])])
        sents = [sentences(r) for r in self.replies]
        self.sent_text = [s for ss in sents for s in ss]
        self.sent_row = np.array([i for i, ss in enumerate(sents) for _ in ss])
        self.sent_level = {m: np.array([p.levels[m] if _in_rationale(s, p.rationales[m]) else 0
                                        for s, p in zip(self.sent_text, (pairs[i] for i in self.sent_row))]) for m in MECHANISMS}
        # MiniLM sentence embeddings, one row per sentence above (zeros where truncation cut it off)
        self.sent_vecs = cache.sentence_vectors(self.replies)
        assert [len(v) for v in self.sent_vecs] == [len(ss) for ss in sents]
        self.sent_emb = np.concatenate(self.sent_vecs)
        self.sent_emb_kept = np.any(self.sent_emb != 0, axis=1)
        # per reply its token states (same layer), and for REDDIT_TOKEN_POOL mechanisms which
        # tokens lie in the raters' rationale (the attention part's auxiliary target)
        self.tokens = cache.token_states(self.replies)
        tokenizer = cache.encoder.tokenizer
        offsets = [tokenizer(r if r.strip() else ".", truncation=True, max_length=REPLY_MAX_TOKENS,  # as TextEncoder does
                             return_offsets_mapping=True)["offset_mapping"] for r in self.replies]
        assert [len(o) for o in offsets] == [len(t) for t in self.tokens]
        self.tok_rationale = {m: [rationale_token_labels(r, o, p.rationales[m]) for r, o, p in zip(self.replies, offsets, pairs)]
                              for m in REDDIT_TOKEN_POOL}

    def inputs(self, idx: Sequence[int]) -> tuple[list[str], np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """What `RedditModel.proba` reads for rows `idx`: replies, dense rows, sentence vectors, token states."""
        idx = np.asarray(idx)
        return [self.replies[i] for i in idx], self.dense[idx], [self.sent_vecs[i] for i in idx], [self.tokens[i] for i in idx]


def _in_rationale(sentence: str, rationale: str) -> bool:
    norm = lambda t: " ".join(t.lower().split())
    s = norm(sentence)
    return any(len(r) > 2 and (s in r or r in s) for r in (norm(x) for x in rationale.split("|") if x.strip()))


class RedditModel:
    """The EPITOME-dev heads fitted on some rows of a RedditBlock: per mechanism a lexical LR
    (reply TF-IDF), a dense LR (MiniLM + rules + relation) and a sentence LR (sentence TF-IDF,
    trained on rationale sentences), for REDDIT_SENT_EMBED mechanisms a sentence-embedding LR
    (MiniLM layer SENT_LAYER, same sentence labels), for REDDIT_TOKEN_POOL mechanisms an
    attention-pooling part over the same layer's token states (`token_pool`), plus per-class
    log-probability offsets. Probabilities are `features.mix_reddit` of the parts, which is what
    `features.reddit_probabilities` computes at run time."""

    def __init__(self, tv: TfidfVectorizer, sent_tv: TfidfVectorizer, heads: dict[str, tuple], offsets: dict[str, np.ndarray],
                 pools: dict[str, TokenPool] | None = None):
        self.tv, self.sent_tv, self.heads, self.offsets, self.pools = tv, sent_tv, heads, offsets, pools or {}

    def proba(self, mech: str, replies: Sequence[str], dense: np.ndarray, sent_vecs: Sequence[np.ndarray] | None = None,
              tokens: Sequence[np.ndarray] | None = None, *, offsets: bool = True) -> np.ndarray:
        """`dense`: the dense + rule block with `relation_vector` appended, one row per reply;
        `sent_vecs`: per reply, its `features.sentence_vectors` (needed by REDDIT_SENT_EMBED heads);
        `tokens`: per reply, its token states (needed by REDDIT_TOKEN_POOL heads)."""
        lex_clf, dense_clf, sent_clf, *rest = self.heads[mech]
        sents = [sentences(r) for r in replies]
        ps = sent_clf.predict_proba(self.sent_tv.transform([s for ss in sents for s in ss]))
        bounds = np.cumsum([0] + [len(ss) for ss in sents])
        sent = np.stack([strongest_sentence(ps[a:b]) for a, b in zip(bounds, bounds[1:])])
        parts = [lex_clf.predict_proba(self.tv.transform(replies)), dense_clf.predict_proba(dense), sent]
        if rest:
            if sent_vecs is None:
                raise ValueError(f"the {mech} head needs the replies' sentence vectors")
            kept = [kept_sentences(v) for v in sent_vecs]
            pm = rest[0].predict_proba(np.concatenate(kept)) if sum(map(len, kept)) else np.zeros((0, 3))
            bounds = np.cumsum([0] + [len(v) for v in kept])
            parts.append(np.stack([strongest_sentence(pm[a:b]) for a, b in zip(bounds, bounds[1:])]))
        if mech in self.pools:
            if tokens is None:
                raise ValueError(f"the {mech} head needs the replies' token states")
            parts.append(self.pools[mech].proba(tokens))
        return mix_reddit(parts, self.offsets.get(mech) if offsets else None)


def fit_reddit(block: RedditBlock, idx: np.ndarray, seed: int, *, offsets: bool = True) -> RedditModel:
    """Fit the EPITOME-dev heads on rows `idx`; TF-IDF vocabularies come from those rows only.
    With `offsets`, each head's per-class offsets are the macro-F1-best on out-of-fold
    probabilities of a 5-fold CV inside `idx` (grouped by seeker post), so choosing them never
    sees a row outside `idx`."""
    idx = np.asarray(idx)
    with threadpool_limits(1):  # lbfgs on two cores: BLAS threads slow it down many times over
        tv = fit_tfidf([block.replies[i] for i in idx], max_features=REDDIT_MAX_FEATURES)
        srows = np.where(np.isin(block.sent_row, idx))[0]
        sent_tv = fit_tfidf([block.sent_text[k] for k in srows], max_features=REDDIT_MAX_FEATURES)
        lex, slex = tv.transform([block.replies[i] for i in idx]), sent_tv.transform([block.sent_text[k] for k in srows])
        erows = srows[block.sent_emb_kept[srows]]
        heads = {m: (fit_linear(lex, y[idx], REDDIT_C["lex"], seed), fit_linear(block.dense[idx], y[idx], REDDIT_C["dense"], seed),
                     fit_linear(slex, block.sent_level[m][srows], REDDIT_C["sent"], seed))
                    + ((fit_linear(block.sent_emb[erows], block.sent_level[m][erows], REDDIT_C["msent"], seed),)
                       if m in REDDIT_SENT_EMBED else ())
                 for m, y in block.levels.items()}
    # torch keeps its own threads for the attention part (outside the BLAS limit above)
    pools = {m: fit_token_pool([block.tokens[i] for i in idx], [block.tok_rationale[m][i] for i in idx], block.levels[m][idx], seed)
             for m in REDDIT_TOKEN_POOL}
    model = RedditModel(tv, sent_tv, heads, {}, pools)
    if offsets:
        oof = {m: np.zeros((len(block.replies), 3)) for m in MECHANISMS}
        for tr, te in grouped_folds(block.groups[idx], REDDIT_INNER_FOLDS, seed):
            inner = fit_reddit(block, idx[tr], seed, offsets=False)
            for m in MECHANISMS:
                oof[m][idx[te]] = inner.proba(m, *block.inputs(idx[te]))
        model.offsets = {m: best_offsets(oof[m][idx], block.levels[m][idx]) for m in MECHANISMS}
    return model


def reddit_arrays(fitted: RedditModel, vocab: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """The artefact arrays of fitted EPITOME-dev heads; their TF-IDF vocabularies go into `vocab`."""
    arrays: dict[str, np.ndarray] = {}
    vocab["epitome"] = vocab_list(fitted.tv)
    arrays["epitome.idf"] = fitted.tv.idf_.astype(np.float32)
    vocab["epitome_sent"] = vocab_list(fitted.sent_tv)
    arrays["epitome_sent.idf"] = fitted.sent_tv.idf_.astype(np.float32)
    for m, (lex_clf, dense_clf, sent_clf, *rest) in fitted.heads.items():
        store(arrays, f"reddit_{m}.lex", lex_clf)
        store(arrays, f"reddit_{m}.dense", dense_clf)
        store(arrays, f"reddit_{m}.sent", sent_clf)
        if rest:
            store(arrays, f"reddit_{m}.msent", rest[0])
        if m in fitted.pools:
            arrays.update(fitted.pools[m].arrays(f"reddit_{m}.pool."))
        arrays[f"reddit_{m}.offset"] = fitted.offsets[m].astype(np.float32)
    return arrays


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int = 3) -> float:
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm)
    return float(np.mean(2 * tp / np.maximum(1, cm.sum(0) + cm.sum(1))))


def best_offsets(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-class log-probability offsets (class 0 fixed at 0) whose argmax decision has the best
    macro-F1 on (p, y); ties go to the smallest offsets. Rare classes that the mean of balanced
    models under-predicts (weak interpretations) get a push, and only as much as pays off."""
    logp = np.log(np.clip(p, 1e-12, None))
    best, best_key = np.zeros(3), None
    for a in REDDIT_OFFSET_GRID:
        for b in REDDIT_OFFSET_GRID:
            off = np.array([0.0, a, b])
            key = (round(macro_f1(y, np.argmax(logp + off, axis=1)), 6), -(abs(a) + abs(b)))
            if best_key is None or key > best_key:
                best, best_key = off, key
    return best


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
    vocab = {}
    if pairs:
        report(f"EPITOME-dev: {len(pairs)} pairs")
        rb = RedditBlock(pairs, cache)
        fitted = fit_reddit(rb, np.arange(len(pairs)), seed)
        arrays.update(reddit_arrays(fitted, vocab))
        for m in fitted.heads:
            heads[f"reddit_{m}"] = HeadMeta(block="epitome", kind="multiclass", classes=[0, 1, 2], C=REDDIT_C["dense"],
                                            trained_on="epitome-dev", rows=len(pairs))
            report(f"reddit_{m}: offsets {fitted.offsets[m].round(2).tolist()}")
        notes.append("reddit_* heads: mean of a reply TF-IDF LR, a MiniLM+rules+relation LR and a sentence TF-IDF LR "
                     f"(and for {', '.join(sorted(REDDIT_SENT_EMBED))} a MiniLM layer-{SENT_LAYER} sentence LR, reddit_*.msent; "
                     f"for {', '.join(sorted(REDDIT_TOKEN_POOL))} an attention pooling of layer-{SENT_LAYER} token states, "
                     "reddit_*.pool.*); "
                     "per-class log offsets (reddit_*.offset) chosen on 5-fold out-of-fold probabilities")
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
        # (the same numbers as features.reddit_probabilities computes at run time)
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
                               classes=classes, C=C, stack=[f"reddit_{m}" for m in MECHANISMS] if use_stack else [],
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
