"""The textual end-of-turn judge: P(complete) of a speculative transcript.

One logistic regression over `features.feature_rows` (MiniLM of the unpunctuated transcript
plus tail-word facts). It shares the process's MiniLM embedder, so it adds one short forward
pass per call and no second copy of the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.embedding import Embedder, default_embedder
from . import artefact
from .features import LEXICAL_NAMES, embedding_input, feature_rows


class TextEndOfTurnModel:
    def __init__(self, model_dir: Path | None = None, embedder: Embedder | None = None):
        arrays, self.meta, self.version = artefact.load(model_dir)
        if tuple(self.meta.lexical_names) != LEXICAL_NAMES:
            raise ValueError(f"the end-of-turn artefact's features {self.meta.lexical_names} are not this code's; retrain it")
        self.w = arrays["w"].astype(np.float32)
        self.b = float(arrays["b"])
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """P(complete) per transcript; an empty one gets 0.5 (no evidence either way)."""
        out = np.full(len(texts), 0.5, dtype=np.float64)
        keep = [i for i, t in enumerate(texts) if embedding_input(t)]
        if keep:
            kept = [texts[i] for i in keep]
            x = feature_rows(kept, self.embedder.embed([embedding_input(t) for t in kept]))
            out[keep] = 1.0 / (1.0 + np.exp(-(x @ self.w + self.b)))
        return out

    def probability_complete(self, text: str) -> float:
        return float(self.probabilities([text])[0])
