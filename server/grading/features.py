"""Features of one learner turn for the trained grader.

Three blocks, each cheap at run time:
- dense: MiniLM embeddings of the reply (mean-pooled, and max over its sentences' token means)
  and of its
  relation to the patient's turn (element-wise product and cosine), so a head can tell a reply
  that takes up what the patient said from one that moves away;
- rules: every phrase and structure rule of `rules.rule_signals`, as numbers;
- lexical: word 1-2-gram TF-IDF of the reply, computed here from a stored vocabulary (no
  pickles), so the artefact stays plain numbers and JSON.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Sequence

import numpy as np

from ..core.emotions import compatible
from ..core.text import STOP_WORDS, sentence_spans, split_sentences
from .base import GradeContext
from .rules import rule_signals
from .token_pool import pool_probabilities

REPLY_MAX_TOKENS = 256  # long Reddit replies; a spoken turn is far shorter
# The hidden layer whose per-sentence token means feed the EPITOME-dev sentence-embedding part
# and whose token states feed the attention-pooling part (`token_pool`); hidden_states index:
# 0 is the word embeddings, 6 MiniLM's last layer. A middle layer beat the last one in
# EPITOME-dev cross-validation; it comes out of the reply's one forward pass.
SENT_LAYER = 4
# Torch threads for passes outside a live session (the cold packed pass, batched file grading).
# In a session the server keeps torch on one thread (core.embedding.EMBED_THREADS), because a
# second thread fights the speech work for the two cores; offline both cores are free, and the
# cold pass (about 60 tokens) measured p95 22 ms on two threads against 35 ms on one.
OFFLINE_THREADS = 2
_WORD = re.compile(r"[a-z0-9']+")

RULE_BOOLS = ("understand", "respect", "support", "explore", "legitimise", "shared", "sympathy", "false_understanding",
              "reassure", "dismissive", "advice", "stereotype", "jargon", "perfunctory", "ack_generic", "name", "acknowledges")
RULE_NAMES = (*RULE_BOOLS, "q_open", "q_closed", "q_none", "overlap", "named_wrong", "named_right", "opp_explicit", "opp_cue",
              "opp_none", "explored_before", "log_words", "n_sentences", "n_questions", "i_share", "you_share", "ends_question")


def sentences(text: str) -> list[str]:
    """The reply's sentences; a text without any counts as one sentence."""
    return split_sentences(text) or [text.strip() or "."]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams: the analyzer shared by training (sklearn) and run time."""
    w = words(text)
    return w + [f"{a} {b}" for a, b in zip(w, w[1:])]


def rule_vector(text: str, ctx: GradeContext) -> np.ndarray:
    """The rule grader's verdicts plus a few structural counts, in RULE_NAMES order."""
    s = rule_signals(text, ctx)
    named = s["named"][0][1] if s["named"] else None
    right = named is not None and ctx.patient_emotion is not None and any(
        compatible(named, e) for e in [ctx.patient_emotion, *ctx.also_accept])
    w = words(text)
    n = max(1, len(w))
    sents = sentences(text)
    kind = ctx.opportunity_kind if ctx.opportunity_id else None
    values = [float(bool(s[k])) for k in RULE_BOOLS] + [
        float(s["qtype"] == "open"), float(s["qtype"] == "closed"), float(s["qtype"] == "none"),
        float(s["overlap"]),
        float(named is not None and not right), float(right),
        float(kind == "explicit"), float(kind == "cue"), float(kind is None),
        float(ctx.explored_before),
        math.log1p(len(w)) / 4.0,
        min(len(sents), 8) / 4.0,
        min(text.count("?"), 4) / 2.0,
        sum(x in ("i", "i'm", "i've", "i'd", "i'll", "me", "my") for x in w) / n * 4,
        sum(x in ("you", "you're", "you've", "you'd", "your", "yourself") for x in w) / n * 4,
        float(text.rstrip().endswith("?")),
    ]
    return np.asarray(values, dtype=np.float32)


class TextEncoder:
    """MiniLM mean-pooled sentence embeddings, with a small cache for patient turns (the same
    patient line is graded against many replies) and whole-reply + per-sentence encoding in a
    single forward pass."""

    def __init__(self, embedder=None, cache_size: int = 256, offline_threads: int = OFFLINE_THREADS):
        if embedder is None:
            from ..core.embedding import default_embedder
            embedder = default_embedder()
        self.embedder = embedder
        self.tokenizer = embedder.tokenizer
        self.model = embedder.model
        self._torch = embedder._torch
        self._lock = embedder._lock
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()  # the grader's prefetch thread writes it too
        self._cache_size = cache_size
        self.offline_threads = offline_threads

    @contextmanager
    def _threads(self, n: int | None):
        """Run one pass with `n` torch threads, then restore the setting (call under the lock)."""
        torch = self._torch
        before = torch.get_num_threads()
        if n and n != before:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if n and n != before:
                torch.set_num_threads(before)

    def encode(self, texts: Sequence[str], max_length: int = REPLY_MAX_TOKENS, batch_size: int = 32,
               threads: int | None = None) -> np.ndarray:
        """Unit-normalised mean-pooled embeddings; batches are cut in input order so the same
        inputs always give the same numbers. `threads` as in `encode_replies`."""
        torch = self._torch
        out = []
        for i in range(0, len(texts), batch_size):
            chunk = [t if t.strip() else "." for t in texts[i:i + batch_size]]
            with self._lock, torch.inference_mode(), self._threads(threads):
                batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out.append(pooled.numpy().astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)

    def encode_replies(self, texts: Sequence[str], max_length: int = REPLY_MAX_TOKENS, batch_size: int = 32,
                       threads: int | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """(mean-pooled reply, element-wise max over its sentences, per reply the
        `sentence_vectors` of its `sentences` at hidden layer SENT_LAYER, per reply its token
        states at that layer), all from one forward pass: each sentence is the mean of its own
        tokens in the whole reply's encoding, so a long reply's strongest sentence is not
        averaged away, at no extra cost. Token states include the special tokens and exclude
        padding (see `token_pool`). `threads`: torch threads for these passes (default: as set;
        `bedside grade --in` passes `offline_threads`)."""
        torch = self._torch
        whole_out, max_out, sent_out, tok_out = [], [], [], []
        for i in range(0, len(texts), batch_size):
            chunk = [t if t.strip() else "." for t in texts[i:i + batch_size]]
            with self._lock, torch.inference_mode(), self._threads(threads):
                batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt",
                                       return_offsets_mapping=True)
                offsets = batch.pop("offset_mapping").numpy()
                out = self.model(**batch, output_hidden_states=True)
                hidden = out.last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
                mid = out.hidden_states[SENT_LAYER].numpy()
            H, P, n_real = hidden.numpy(), pooled.numpy(), batch["attention_mask"].sum(1).numpy()
            for j, text in enumerate(chunk):
                whole_out.append(P[j])
                max_out.append(_sentence_max(text, H[j], offsets[j], P[j]))
                sent_out.append(sentence_vectors(text, mid[j], offsets[j]))
                tok_out.append(mid[j, :n_real[j]].astype(np.float32))
        if not whole_out:
            empty = np.zeros((0, 384), np.float32)
            return empty, empty, [], []
        return np.stack(whole_out).astype(np.float32), np.stack(max_out).astype(np.float32), sent_out, tok_out

    def encode_packed(self, texts: Sequence[str], max_length: int = REPLY_MAX_TOKENS
                      ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(mean-pooled, sentence-max, `sentence_vectors` at SENT_LAYER, token states at
        SENT_LAYER) for a few texts in ONE
        forward pass without padding: the texts are laid end to end, each attending only to
        itself (a block-diagonal mask) with positions restarting at 0, so each gets the numbers a
        pass of its own would give (to float rounding) while paying one pass's fixed cost and no
        padded tokens. This is the cold path (a reply and a patient turn never seen before): a
        padded batch of the two costs about 25% more tokens, two passes about 4 ms more overhead.
        It runs on `offline_threads` torch threads: in a session the engine has already encoded
        the patient's turn (`TrainedGrader.prefetch`), so this pass serves grading outside a live
        session, where no speech work competes for the cores."""
        torch = self._torch
        texts = [t if t.strip() else "." for t in texts]
        with self._lock, torch.inference_mode(), self._threads(self.offline_threads):
            enc = self.tokenizer(list(texts), truncation=True, max_length=max_length, return_offsets_mapping=True)
            lengths = [len(ids) for ids in enc["input_ids"]]
            total = sum(lengths)
            ids = torch.tensor([[i for row in enc["input_ids"] for i in row]])
            positions = torch.cat([torch.arange(n) for n in lengths]).unsqueeze(0)
            mask = torch.zeros(1, 1, total, total, dtype=torch.bool)
            start = 0
            for n in lengths:
                mask[0, 0, start:start + n, start:start + n] = True
                start += n
            out = self.model(input_ids=ids, position_ids=positions, attention_mask=mask, output_hidden_states=True)
            hidden = out.last_hidden_state[0].numpy()
            mid = out.hidden_states[SENT_LAYER][0].numpy()
        result, start = [], 0
        for text, n, offsets in zip(texts, lengths, enc["offset_mapping"]):
            H, M, offsets = hidden[start:start + n], mid[start:start + n], np.asarray(offsets)
            start += n
            pooled = H.mean(axis=0)
            pooled = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
            result.append((pooled, _sentence_max(text, H, offsets, pooled).astype(np.float32), sentence_vectors(text, M, offsets),
                           M.astype(np.float32)))
        return result

    def turn(self, text: str, context: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(reply, sentence-max reply, patient turn, the reply's `sentence_vectors`, the reply's
        token states); the patient turn comes from the cache when the engine has already encoded
        it (see `context`)."""
        if not context.strip():
            whole, maxed, sents, toks = self.encode_replies([text])
            return whole[0], maxed[0], np.zeros_like(whole[0]), sents[0], toks[0]
        cached = self._cache.get(context)
        if cached is not None:
            whole, maxed, sents, toks = self.encode_replies([text])
            return whole[0], maxed[0], cached, sents[0], toks[0]
        # not said through the engine (e.g. `bedside grade --in` one row at a time): both texts
        # in one packed forward pass
        (whole, maxed, sents, toks), (ctx, _, _, _) = self.encode_packed([text, context])
        self._remember(context, ctx)
        return whole, maxed, ctx, sents, toks

    def context(self, text: str) -> np.ndarray:
        """The patient's turn, cached: the engine encodes it when the patient says it."""
        v = self._cache.get(text)
        if v is None:
            v = self.encode([text])[0]
            self._remember(text, v)
        return v

    def _remember(self, text: str, v: np.ndarray) -> None:
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[text] = v


def _span_means(hidden: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """The unit-normalised mean of the token states inside each character span (zeros for a
    span with no token left after truncation); special and padding tokens have empty offsets."""
    real = offsets[:, 1] > offsets[:, 0]
    out = np.zeros((len(spans), hidden.shape[-1]), np.float32)
    for k, (a, b) in enumerate(spans):
        sel = real & (offsets[:, 0] >= a) & (offsets[:, 0] < b)
        if sel.any():
            v = hidden[sel].mean(axis=0)
            out[k] = v / (np.linalg.norm(v) + 1e-9)
    return out


def _sentence_max(text: str, hidden: np.ndarray, offsets: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """Element-wise max over the reply's pieces between sentence marks (the dense block's
    segmentation, older than `sentences` and kept so trained heads see the same numbers)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^.?!\n]+[.?!]*", text) if m.group().strip()]
    if len(spans) <= 1:
        return pooled
    vecs = kept_sentences(_span_means(hidden, offsets, spans))
    return np.max(vecs, axis=0) if len(vecs) > 1 else pooled


def sentence_vectors(text: str, hidden: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """One row per piece of `sentences(text)`: the unit-normalised mean of its tokens' states in
    `hidden` (one layer of the whole reply's encoding); zeros for a sentence that truncation cut
    off (see `kept_sentences`)."""
    return _span_means(hidden, offsets, sentence_spans(text) or [(0, len(text))])


def kept_sentences(vecs: np.ndarray) -> np.ndarray:
    """The rows of `sentence_vectors` whose sentence kept tokens."""
    return vecs[np.any(vecs != 0, axis=1)]


def dense_block(reply: np.ndarray, reply_max: np.ndarray, context: np.ndarray) -> np.ndarray:
    """[reply, sentence-max reply, reply*context, cosine]; works on one row or a matrix."""
    cos = (reply * context).sum(-1, keepdims=True)
    return np.concatenate([reply, reply_max, reply * context * 4.0, cos], axis=-1).astype(np.float32)


class Tfidf:
    """Sublinear TF-IDF over `ngrams`, l2-normalised: the same numbers as sklearn's
    TfidfVectorizer(analyzer=ngrams, sublinear_tf=True), from a stored vocabulary and idf."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray):
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        X = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for i, t in enumerate(texts):
            for g, c in Counter(ngrams(t)).items():
                j = self.vocabulary.get(g)
                if j is not None:
                    X[i, j] = (1.0 + math.log(c)) * self.idf[j]
            n = np.linalg.norm(X[i])
            if n > 0:
                X[i] /= n
        return X


# ------------------------------------------------------------------ EPITOME-dev (reddit) heads

# Content words a reply shares with the seeker's post, in the sentences where the responder speaks
# of themself (shared experience: interpretations) or asks (a specific question: explorations).
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|myself)\b")
RELATION_NAMES = ("first_person_sentences", "first_person_share", "first_person_shared_words", "shared_words",
                  "questions", "longest_question", "question_content_words", "question_shared_words")


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP_WORDS and len(w) > 2}


def relation_vector(text: str, post: str) -> np.ndarray:
    """Cheap features of the reply's relation to the post it answers, in RELATION_NAMES order:
    how much of the reply is about the responder (and about what the post is about), and how
    long and how specific its questions are."""
    sents = sentences(text)
    pc = _content(post)
    first = [s for s in sents if _FIRST_PERSON.search(s.lower().replace("’", "'"))]
    asks = [s for s in sents if "?" in s]
    return np.array([
        math.log1p(len(first)), len(first) / len(sents),
        math.log1p(sum(len(_content(s) & pc) for s in first)),
        math.log1p(len(_content(text) & pc)),
        math.log1p(len(asks)),
        math.log1p(max([len(s.split()) for s in asks] or [0])),
        math.log1p(max([len(_content(s)) for s in asks] or [0])),
        math.log1p(sum(len(_content(s) & pc) for s in asks)),
    ], dtype=np.float32)


def strongest_sentence(sentence_probs: np.ndarray) -> np.ndarray:
    """A reply's sentence-part probabilities: those of its sentence least likely to show nothing
    (no sentence at all: certainly nothing)."""
    if not len(sentence_probs):
        return np.array([1.0, 0.0, 0.0], dtype=np.float64)
    return sentence_probs[int(np.argmin(sentence_probs[:, 0]))]


def mix_reddit(parts: Sequence[np.ndarray], offset: np.ndarray | None) -> np.ndarray:
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


def reddit_probabilities(arrays: dict, tfidf: dict, mech: str, text: str, post: str, lex: np.ndarray,
                         dense: np.ndarray, sent_vecs: np.ndarray | None = None, tokens: np.ndarray | None = None) -> np.ndarray:
    """Run-time class probabilities of one EPITOME-dev head (`reddit_<mech>`), the same numbers
    `train.RedditModel.proba` gives in training: the mean of a lexical part (reply TF-IDF), a
    dense part (MiniLM + rules + `relation_vector`) and a sentence part (`strongest_sentence`
    over per-sentence TF-IDF) and, for heads that have one (`.msent` arrays), a sentence-embedding
    part (`strongest_sentence` over `sent_vecs`, the reply's `sentence_vectors`) and, for heads
    with `.pool` arrays, an attention-pooling part over `tokens`, the reply's token states
    (`token_pool`), reweighted by
    the head's stored offsets. `lex` is the reply's "epitome" TF-IDF row and `dense` the grader's
    dense + rule vector. An artefact from before the sentence part (no `.sent` arrays) gets the
    old mean of the lexical and dense parts."""
    name = f"reddit_{mech}"

    def part(p: str, x: np.ndarray) -> np.ndarray:
        return _softmax_rows(x @ arrays[f"{name}.{p}.W"].T + arrays[f"{name}.{p}.b"])

    if f"{name}.sent.W" not in arrays:
        return (part("lex", lex) + part("dense", dense)) / 2
    d = np.concatenate([dense, relation_vector(text, post)])
    s = strongest_sentence(part("sent", tfidf["epitome_sent"].transform(sentences(text))))
    parts = [part("lex", lex), part("dense", d), s]
    if f"{name}.msent.W" in arrays:
        parts.append(strongest_sentence(part("msent", kept_sentences(sent_vecs))))
    if f"{name}.pool.W" in arrays:
        parts.append(pool_probabilities(arrays, f"{name}.pool.", [tokens])[0])
    return mix_reddit(parts, arrays.get(f"{name}.offset"))
