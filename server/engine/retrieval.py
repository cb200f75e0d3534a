"""Find the pack facts and hidden concerns a learner turn asks about.

Each fact's example questions and topic are embedded once per pack; a turn is matched
by cosine similarity to its nearest example. Thresholds were set on the packs' own
example questions (eval/bench/bench_retrieval.py prints hit rates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..persona.schema import PersonaPack
from .embedding import Embedder

MATCH_THRESHOLD = 0.52   # below this, the turn asks about nothing in the pack
MARGIN = 0.06            # a second item is kept only when it scores within this of the best


@dataclass(frozen=True)
class Match:
    kind: str  # "fact" | "concern"
    id: str
    score: float


class PackIndex:
    def __init__(self, pack: PersonaPack, embedder: Embedder):
        self.pack = pack
        self.embedder = embedder
        keys, texts = [], []
        for f in pack.facts:
            for q in [*f.example_questions, f.topic]:
                keys.append(("fact", f.id))
                texts.append(q)
        for c in pack.hidden_concerns:
            for q in c.example_questions:
                keys.append(("concern", c.id))
                texts.append(q)
        self.keys = keys
        self.matrix = embedder.embed(texts) if texts else np.zeros((0, 1))

    def search(self, text: str, *, limit: int = 2, vector: np.ndarray | None = None) -> list[Match]:
        if not self.keys:
            return []
        v = self.embedder.embed([text])[0] if vector is None else vector
        sims = self.matrix @ v
        best: dict[tuple[str, str], float] = {}
        for key, sim in zip(self.keys, sims.tolist()):
            if sim > best.get(key, -1.0):
                best[key] = sim
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        if not ranked or ranked[0][1] < MATCH_THRESHOLD:
            return []
        top = ranked[0][1]
        return [Match(k[0], k[1], round(s, 4)) for k, s in ranked[:limit] if s >= MATCH_THRESHOLD and top - s <= MARGIN]
