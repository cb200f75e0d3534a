"""The EPITOME-dev heads (training only): the pairs as features, the fitted parts, the
per-class offsets, and the arrays the artefact stores for them.

Lexical columns are hash buckets of n-grams (`ngram_tfidf`), so the artefact carries no text
from EPITOME-dev, whose terms allow no redistribution.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from .base import GradeContext
from .data_sources import MECHANISMS, EpitomePair
from .embedding_cache import EmbeddingCache
from .encoder import REPLY_MAX_TOKENS, kept_sentences
from .epitome_heads import mix_epitome, strongest_sentence
from .features import relation_vector, rule_vector, sentences
from .linear_fit import columns, fit_linear, fit_tfidf, grouped_folds, macro_f1, store
from .ngram_tfidf import hashed_ngrams
from .token_pool import TokenPool, fit_token_pool, rationale_token_labels

EPITOME_C = {"lex": 3.0, "dense": 1.0, "sent": 3.0, "msent": 0.3}
# Mechanisms whose EPITOME-dev head has a 4th part: an LR over the MiniLM (layer SENT_LAYER)
# embedding of each sentence, trained on the rationale-labelled sentences like the TF-IDF sentence
# part. It raised interpretations in EPITOME-dev cross-validation (docs/grading.md).
EPITOME_SENT_EMBED = frozenset({"interpretations"})
# mechanisms with an attention-pooling part over token states (`token_pool`)
EPITOME_TOKEN_POOL = frozenset({"interpretations"})
# EPITOME-dev decision offsets: a grid of per-class log-probability offsets, chosen on 5-fold
# out-of-fold probabilities inside the training rows (never on rows being evaluated).
EPITOME_OFFSET_GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)
EPITOME_INNER_FOLDS = 5
# The most frequent n-gram buckets kept per TF-IDF block (a bucket mostly holds one n-gram).
EPITOME_MAX_FEATURES = 20000


class EpitomeBlock:
    """EPITOME-dev pairs as features: the dense block (MiniLM + rules + the reply's relation to
    the seeker post), the replies' sentences, and per mechanism each sentence's level (the pair's
    level when the sentence overlaps a rater's rationale span, else 0)."""

    def __init__(self, pairs: list[EpitomePair], cache: EmbeddingCache):
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
        # per reply its token states (same layer), and for EPITOME_TOKEN_POOL mechanisms which
        # tokens lie in the raters' rationale (the attention part's auxiliary target)
        self.tokens = cache.token_states(self.replies)
        tokenizer = cache.encoder.tokenizer
        offsets = [tokenizer(r if r.strip() else ".", truncation=True, max_length=REPLY_MAX_TOKENS,  # as TextEncoder does
                             return_offsets_mapping=True)["offset_mapping"] for r in self.replies]
        assert [len(o) for o in offsets] == [len(t) for t in self.tokens]
        self.tok_rationale = {m: [rationale_token_labels(r, o, p.rationales[m]) for r, o, p in zip(self.replies, offsets, pairs)]
                              for m in EPITOME_TOKEN_POOL}

    def inputs(self, idx: Sequence[int]) -> tuple[list[str], np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """What `EpitomeModel.proba` reads for rows `idx`: replies, dense rows, sentence vectors, token states."""
        idx = np.asarray(idx)
        return [self.replies[i] for i in idx], self.dense[idx], [self.sent_vecs[i] for i in idx], [self.tokens[i] for i in idx]


def _in_rationale(sentence: str, rationale: str) -> bool:
    norm = lambda t: " ".join(t.lower().split())
    s = norm(sentence)
    return any(len(r) > 2 and (s in r or r in s) for r in (norm(x) for x in rationale.split("|") if x.strip()))


class EpitomeModel:
    """The EPITOME-dev heads fitted on some rows of an EpitomeBlock: per mechanism a lexical LR
    (reply TF-IDF over n-gram buckets), a dense LR (MiniLM + rules + relation) and a sentence LR (sentence TF-IDF,
    trained on rationale sentences), for EPITOME_SENT_EMBED mechanisms a sentence-embedding LR
    (MiniLM layer SENT_LAYER, same sentence labels), for EPITOME_TOKEN_POOL mechanisms an
    attention-pooling part over the same layer's token states (`token_pool`), plus per-class
    log-probability offsets. Probabilities are `mix_epitome` of the parts, which is what
    `epitome_heads.epitome_probabilities` computes at run time."""

    def __init__(self, tv: TfidfVectorizer, sent_tv: TfidfVectorizer, heads: dict[str, tuple], offsets: dict[str, np.ndarray],
                 pools: dict[str, TokenPool] | None = None):
        self.tv, self.sent_tv, self.heads, self.offsets, self.pools = tv, sent_tv, heads, offsets, pools or {}

    def proba(self, mech: str, replies: Sequence[str], dense: np.ndarray, sent_vecs: Sequence[np.ndarray] | None = None,
              tokens: Sequence[np.ndarray] | None = None, *, offsets: bool = True) -> np.ndarray:
        """`dense`: the dense + rule block with `relation_vector` appended, one row per reply;
        `sent_vecs`: per reply, its `encoder.sentence_vectors` (needed by EPITOME_SENT_EMBED heads);
        `tokens`: per reply, its token states (needed by EPITOME_TOKEN_POOL heads)."""
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
        return mix_epitome(parts, self.offsets.get(mech) if offsets else None)


def fit_epitome(block: EpitomeBlock, idx: np.ndarray, seed: int, *, offsets: bool = True) -> EpitomeModel:
    """Fit the EPITOME-dev heads on rows `idx`; the TF-IDF buckets and idf come from those rows only.
    With `offsets`, each head's per-class offsets are the macro-F1-best on out-of-fold
    probabilities of a 5-fold CV inside `idx` (grouped by seeker post), so choosing them never
    sees a row outside `idx`."""
    idx = np.asarray(idx)
    with threadpool_limits(1):  # lbfgs on two cores: BLAS threads slow it down many times over
        tv = fit_tfidf([block.replies[i] for i in idx], max_features=EPITOME_MAX_FEATURES, analyzer=hashed_ngrams)
        srows = np.where(np.isin(block.sent_row, idx))[0]
        sent_tv = fit_tfidf([block.sent_text[k] for k in srows], max_features=EPITOME_MAX_FEATURES, analyzer=hashed_ngrams)
        lex, slex = tv.transform([block.replies[i] for i in idx]), sent_tv.transform([block.sent_text[k] for k in srows])
        erows = srows[block.sent_emb_kept[srows]]
        heads = {m: (fit_linear(lex, y[idx], EPITOME_C["lex"], seed), fit_linear(block.dense[idx], y[idx], EPITOME_C["dense"], seed),
                     fit_linear(slex, block.sent_level[m][srows], EPITOME_C["sent"], seed))
                    + ((fit_linear(block.sent_emb[erows], block.sent_level[m][erows], EPITOME_C["msent"], seed),)
                       if m in EPITOME_SENT_EMBED else ())
                 for m, y in block.levels.items()}
    # torch keeps its own threads for the attention part (outside the BLAS limit above)
    pools = {m: fit_token_pool([block.tokens[i] for i in idx], [block.tok_rationale[m][i] for i in idx], block.levels[m][idx], seed)
             for m in EPITOME_TOKEN_POOL}
    model = EpitomeModel(tv, sent_tv, heads, {}, pools)
    if offsets:
        oof = {m: np.zeros((len(block.replies), 3)) for m in MECHANISMS}
        for tr, te in grouped_folds(block.groups[idx], EPITOME_INNER_FOLDS, seed):
            inner = fit_epitome(block, idx[tr], seed, offsets=False)
            for m in MECHANISMS:
                oof[m][idx[te]] = inner.proba(m, *block.inputs(idx[te]))
        model.offsets = {m: best_offsets(oof[m][idx], block.levels[m][idx]) for m in MECHANISMS}
    return model


def epitome_arrays(fitted: EpitomeModel) -> dict[str, np.ndarray]:
    """The artefact arrays of fitted EPITOME-dev heads: per TF-IDF block its kept hash buckets
    (column order) and idf, and each part's weights. No n-gram text."""
    arrays: dict[str, np.ndarray] = {}
    for block, tv in (("epitome", fitted.tv), ("epitome_sent", fitted.sent_tv)):
        arrays[f"{block}.buckets"] = np.asarray(columns(tv), dtype=np.int32)
        arrays[f"{block}.idf"] = tv.idf_.astype(np.float32)
    for m, (lex_clf, dense_clf, sent_clf, *rest) in fitted.heads.items():
        store(arrays, f"epitome_{m}.lex", lex_clf)
        store(arrays, f"epitome_{m}.dense", dense_clf)
        store(arrays, f"epitome_{m}.sent", sent_clf)
        if rest:
            store(arrays, f"epitome_{m}.msent", rest[0])
        if m in fitted.pools:
            arrays.update(fitted.pools[m].arrays(f"epitome_{m}.pool."))
        arrays[f"epitome_{m}.offset"] = fitted.offsets[m].astype(np.float32)
    return arrays


def best_offsets(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-class log-probability offsets (class 0 fixed at 0) whose argmax decision has the best
    macro-F1 on (p, y); ties go to the smallest offsets. Rare classes that the mean of balanced
    models under-predicts (weak interpretations) get a push, and only as much as pays off."""
    logp = np.log(np.clip(p, 1e-12, None))
    best, best_key = np.zeros(3), None
    for a in EPITOME_OFFSET_GRID:
        for b in EPITOME_OFFSET_GRID:
            off = np.array([0.0, a, b])
            key = (round(macro_f1(y, np.argmax(logp + off, axis=1)), 6), -(abs(a) + abs(b)))
            if best_key is None or key > best_key:
                best, best_key = off, key
    return best

