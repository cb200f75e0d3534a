"""The MiniLM passes the trained grader reads a reply through: mean-pooled embeddings, the
max over its sentences, per-sentence vectors and token states at a middle layer, from one
forward pass per reply, so grading costs one pass however many parts read the reply.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Sequence

import numpy as np

from ..core.text import sentence_spans

REPLY_MAX_TOKENS = 256  # long EPITOME-dev replies (Reddit posts); a spoken turn is far shorter
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
        self.fast = None  # a `core.onnx_graphs.MiniLMPass` for in-session passes, set by the grader

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
                if self.fast is not None and threads is None:  # in a session: ONNX Runtime, same numbers
                    states = self.fast(batch["input_ids"].numpy(), batch["attention_mask"].numpy())
                    hidden, mid = torch.from_numpy(states[-1]), states[SENT_LAYER]
                else:
                    out = self.model(**batch, output_hidden_states=True)
                    hidden = out.last_hidden_state
                    mid = out.hidden_states[SENT_LAYER].numpy()
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
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

    def encode_packed(self, texts: Sequence[str], max_length: int = REPLY_MAX_TOKENS, keep_threads: bool = False
                      ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(mean-pooled, sentence-max, `sentence_vectors` at SENT_LAYER, token states at
        SENT_LAYER) for a few texts in ONE
        forward pass without padding: the texts are laid end to end, each attending only to
        itself (a block-diagonal mask) with positions restarting at 0, so each gets the numbers a
        pass of its own would give (to float rounding) while paying one pass's fixed cost and no
        padded tokens. This is the cold path (a reply and a patient turn never seen before): a
        padded batch of the two costs about 25% more tokens, two passes about 4 ms more overhead.
        It runs on `offline_threads` torch threads (on torch's current ones with `keep_threads`):
        in a session the engine has already encoded the patient's turn (`TrainedGrader.prefetch`),
        so this pass serves grading outside a live session, where no speech work competes for
        the cores."""
        torch = self._torch
        texts = [t if t.strip() else "." for t in texts]
        with self._lock, torch.inference_mode(), self._threads(None if keep_threads else self.offline_threads):
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
        if self.fast is not None:  # ONNX Runtime: the reply as in a session, the patient turn cached
            whole, maxed, sents, toks = self.encode_replies([text])
            return whole[0], maxed[0], self.context(context), sents[0], toks[0]
        # not said through the engine (e.g. `bedside grade --in` one row at a time): both texts
        # in one packed forward pass, on torch's current threads: the pair model's pass runs
        # beside this one, and resizing torch's thread pool under it gave it wrong numbers
        (whole, maxed, sents, toks), (ctx, _, _, _) = self.encode_packed([text, context], keep_threads=True)
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

