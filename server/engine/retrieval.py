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

MATCH_THRESHOLD = {"fact": 0.55, "concern": 0.65}  # below these, the turn asks about nothing in the pack
NEAR_THRESHOLD = 0.40   # a fact this close is "maybe asked": never answer it with a flat denial
MARGIN = 0.05            # a second item is kept only when it scores within this of the best


@dataclass(frozen=True)
class Match:
    kind: str  # "fact" | "concern"
    id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    matches: list[Match]
    best_fact_score: float  # so the planner can tell "not in the pack" from "nearly asked"


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

    def search(self, text: str, *, limit: int = 2, vector: np.ndarray | None = None) -> SearchResult:
        if not self.keys:
            return SearchResult([], 0.0)
        v = self.embedder.embed([text])[0] if vector is None else vector
        sims = self.matrix @ v
        best: dict[tuple[str, str], float] = {}
        for key, sim in zip(self.keys, sims.tolist()):
            if sim > best.get(key, -1.0):
                best[key] = sim
        best_fact = max((s for k, s in best.items() if k[0] == "fact"), default=0.0)
        ranked = [(k, s) for k, s in sorted(best.items(), key=lambda kv: kv[1], reverse=True) if s >= MATCH_THRESHOLD[k[0]]]
        if not ranked:
            return SearchResult([], round(best_fact, 4))
        top = ranked[0][1]
        return SearchResult([Match(k[0], k[1], round(s, 4)) for k, s in ranked[:limit] if top - s <= MARGIN], round(best_fact, 4))
