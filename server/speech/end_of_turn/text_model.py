"""The textual end-of-turn judge: P(complete) of a speculative transcript.

MiniLM with its top two layers fine-tuned to tell a finished utterance from one cut at a word
boundary (`train.py`). The bottom layers are the process's shared embedder's, so a call costs
about one MiniLM pass over a short text and no second copy of the model is loaded; the
fine-tuned layers ship as int8 deltas from MiniLM's own (`core.minilm_layers`).

It reads the transcript in speech form (`features.embedding_input`) and pools the mean of the
tokens with the last word's state (where "I was wondering" shows it is unfinished), next to
the tail-word facts of `features.lexical`, Whisper's final "?", "," or "..." among them.
The first version, a logistic regression over the mean-pooled embedding, scored 0.79-0.80 on
the frozen test split; this one 0.84 (docs/end-of-turn.md).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ...core.embedding import Embedder, default_embedder
from ...core.minilm_layers import MiniLMBottom, attention_bias, bert_layer, pad_states, unpack_top_layers
from . import artefact
from .features import LEXICAL_NAMES, embedding_input, lexical

FROZEN = 4  # MiniLM layers below the fine-tuned ones
MAX_TOKENS = 48
PREFIX = "eot"


def pooled(torch, h, attn):
    """The mean of the real tokens next to the last word's state (the token before [SEP])."""
    m = attn.unsqueeze(-1).to(h.dtype)
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
    last = h[torch.arange(h.shape[0]), (attn.sum(1) - 2).clamp(min=0)]
    return torch.cat([mean, last], dim=-1)


def logits(torch, states: Sequence[np.ndarray], lex: np.ndarray, layers, head_W, head_b, drop=None):
    """The fine-tuned part: top layers over the bottom states, the pool, the linear head."""
    h, attn = pad_states(torch, states)
    add = attention_bias(attn, h.dtype)
    for p in layers:
        h = bert_layer(torch, h, add, p)
        if drop is not None:
            h = drop(h)
    x = torch.cat([pooled(torch, h, attn), torch.from_numpy(np.asarray(lex, dtype=np.float32))], dim=-1)
    return (x @ head_W + head_b).reshape(-1)


class TextEndOfTurnModel:
    def __init__(self, model_dir: Path | None = None, embedder: Embedder | None = None, runtime: str = "onnx"):
        """`runtime`: "onnx" judges one transcript (a live pause) as one ONNX Runtime graph
        (`core.onnx_graphs`: the same numbers, in about half the time), "torch" in PyTorch;
        batches (training, benchmarks) always run in PyTorch."""
        from ...core.onnx_graphs import choose_runtime
        runtime = choose_runtime(runtime, "end-of-turn")
        self.runtime = runtime
        arrays, self.meta, self.version = artefact.load(model_dir)
        if tuple(self.meta.lexical_names) != LEXICAL_NAMES or self.meta.frozen != FROZEN:
            raise ValueError(f"the end-of-turn artefact ({self.version}) was built for other features or layers; "
                             "retrain it with `bedside turn train --shared PATH`")
        self._arrays = arrays
        self._embedder = embedder
        self._ready: tuple | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def _parts(self):
        with self._lock:
            if self._ready is None:
                bottom = MiniLMBottom(self.embedder, FROZEN)
                torch = bottom.torch
                t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))  # noqa: E731
                base = [{k: v.numpy() for k, v in layer.items()} for layer in bottom.minilm_top]
                layers = [{k: t(v) for k, v in layer.items()} for layer in unpack_top_layers(self._arrays, base, PREFIX)]
                head_W, head_b = t(self._arrays[f"{PREFIX}.head.W"]), t(self._arrays[f"{PREFIX}.head.b"])
                self._ready = (bottom, layers, head_W, head_b, self._graph(bottom, layers, head_W, head_b))
            return self._ready

    def _graph(self, bottom, layers, head_W, head_b):
        """One transcript (token ids, lexical facts) -> its logit, as one ONNX Runtime graph, built
        once per process for these weights; None when running in PyTorch."""
        if self.runtime != "onnx":
            return None
        import hashlib

        from ...core.onnx_graphs import Graph, cached_graph
        torch = bottom.torch

        class OneText(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embeddings = bottom.embeddings

            def forward(self, ids, lex):
                h = self.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                attn = torch.ones_like(ids)
                add = attention_bias(attn, h.dtype)
                for p in [*bottom.layers, *layers]:
                    h = bert_layer(torch, h, add, p)
                return (torch.cat([pooled(torch, h, attn), lex], dim=-1) @ head_W + head_b).reshape(-1)

        digest = hashlib.sha1(b"".join(np.ascontiguousarray(self._arrays[k]).tobytes() for k in sorted(self._arrays)))
        example = (torch.tensor([[101, 7592, 2045, 102]]), torch.zeros(1, len(LEXICAL_NAMES)))
        return cached_graph(("eot", id(bottom.embedder.model), digest.hexdigest()),
                            lambda: Graph(OneText(), example, ["ids", "lex"], ["logit"], {"ids": {1: "tokens"}}))

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """P(complete) per transcript; an empty one gets 0.5 (no evidence either way)."""
        out = np.full(len(texts), 0.5, dtype=np.float64)
        keep = [i for i, t in enumerate(texts) if embedding_input(t)]
        if keep:
            bottom, layers, head_W, head_b, graph = self._parts()
            torch = bottom.torch
            kept = [texts[i] for i in keep]
            if graph is not None and len(kept) == 1:  # a live pause
                ids = bottom.tokenizer([embedding_input(kept[0])], truncation=True, max_length=MAX_TOKENS, return_tensors="np")
                z = graph(ids=ids["input_ids"].astype(np.int64), lex=lexical(kept[0])[None].astype(np.float32))[0]
                out[keep] = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
                return out
            states = bottom.single([embedding_input(t) for t in kept], MAX_TOKENS)
            with torch.inference_mode():
                z = logits(torch, states, np.stack([lexical(t) for t in kept]), layers, head_W, head_b).numpy()
            out[keep] = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        return out

    def probability_complete(self, text: str) -> float:
        return float(self.probabilities([text])[0])
