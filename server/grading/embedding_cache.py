"""MiniLM features of training rows, cached on disk by content hash, so retraining and
cross-validation pay for the encoder's forward passes once (training only)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.text import sentence_spans
from .encoder import REPLY_MAX_TOKENS, SENT_LAYER, TextEncoder
from .features import dense_block

DEFAULT_CACHE = Path("/tmp/bedside-grader-cache")


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
        """Per reply, its `encoder.sentence_vectors` (layer SENT_LAYER), cached like `dense`."""
        return self._layer(replies)[0]

    def token_states(self, replies: Sequence[str]) -> list[np.ndarray]:
        """Per reply, its token states at layer SENT_LAYER (`token_pool`), cached like `dense`."""
        return self._layer(replies)[1]

    def _layer(self, replies: Sequence[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Both per-reply layer-SENT_LAYER outputs of one forward pass, cached in one file, keyed
        by the replies' sentence spans too: vectors cut by another sentence splitter are not reused."""
        spans = [repr(sentence_spans(r)) for r in replies]
        key = hashlib.sha1("\x1e".join(["minilm-layer", str(SENT_LAYER), str(REPLY_MAX_TOKENS), *replies, "\x1d", *spans]).encode()
                           ).hexdigest()[:16]
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
