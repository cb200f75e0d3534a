"""The pair model: a MiniLM cross-encoder that reads the patient's turn and the reply together.

The linear heads over separate reply and patient vectors could not tell whether a reply takes
up *this* feeling; attention across both texts can. The bottom FROZEN layers are MiniLM's own
(shared with the engine's embedder, so no second copy is loaded); the top layers were
fine-tuned on labelled pairs and ship in the grader artefact (`pair.*` arrays: their change from
MiniLM's own layers in int8, `pack_top_layers`).

Input (late interaction): the patient's turn and the reply each pass MiniLM's embeddings and
bottom layers on their own, `[CLS] text [SEP]`; the two are then laid end to end, a learned
segment vector added to the reply's tokens, and the fine-tuned top layers attend across both.
So the patient's part is computed once, when the patient says it (`prefetch`), and a learner's
turn costs the reply's bottom layers plus two layers over the pair, about a third of a full
cross-encoder pass, on the second core beside the grader's own reply pass. Pooled: the mean of every token and the mean of the reply's tokens. Heads:
ECCS as six ordinal logits P(level > k) (cumulative link, so adjacent levels share evidence),
one logit per NURSE type and text flag, and VR-CoDES space (3 classes).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from ..core.minilm_layers import (LAYER_KEYS, MiniLMBottom, attention_bias, bert_layer, layer_params,  # noqa: F401
                                  pack_top_layers, pad_states, unpack_top_layers)

FROZEN = 4  # MiniLM layers below the fine-tuned ones
PATIENT_MAX_WORDS = 60  # the end of a long patient turn is what the reply answers
PATIENT_MAX_TOKENS = 96
REPLY_MAX_TOKENS = 128
PATIENT_CACHE = 32  # patient turns whose bottom states are kept (one per live conversation turn)
SPACE_CLASSES = ("provides", "reduces", "neutral")
ECCS_LEVELS = 7


def trim_patient(text: str) -> str:
    words = text.split()
    return " ".join(words[-PATIENT_MAX_WORDS:]) if words else "."


def pool(torch, h, attn, types):
    """Mean of all real tokens next to the mean of the reply's tokens."""
    m = attn.unsqueeze(-1).to(h.dtype)
    r = (attn * types).unsqueeze(-1).to(h.dtype)
    return torch.cat([(h * m).sum(1) / m.sum(1).clamp(min=1.0), (h * r).sum(1) / r.sum(1).clamp(min=1.0)], dim=-1)


def ordinal_to_levels(p_gt: np.ndarray) -> np.ndarray:
    """P(level > k) for k = 0..5 -> a distribution over levels 0..6 (made monotone first)."""
    g = np.minimum.accumulate(np.clip(p_gt, 0.0, 1.0), axis=-1)
    upper = np.concatenate([np.ones(g.shape[:-1] + (1,)), g], axis=-1)
    lower = np.concatenate([g, np.zeros(g.shape[:-1] + (1,))], axis=-1)
    return np.clip(upper - lower, 0.0, 1.0)


def decide_level(levels: np.ndarray, rule: str, cuts: Sequence[float] | None = None) -> np.ndarray:
    """ECCS level(s) from level distribution(s): "expected" (nearest the expected level),
    "median" (the ordinal median), "argmax" (the most probable level) or "cutpoints" (the
    expected level cut at `cuts`, one per boundary between levels: a model that leans to the
    middle level is spread back out)."""
    levels = np.asarray(levels, dtype=np.float64)
    if rule == "cutpoints" and cuts is not None:
        expected = levels @ np.arange(levels.shape[-1]) / levels.sum(-1)
        return np.minimum(np.searchsorted(np.sort(np.asarray(cuts, dtype=np.float64)), expected), levels.shape[-1] - 1)
    if rule == "expected":
        return np.clip(np.rint(levels @ np.arange(levels.shape[-1]) / levels.sum(-1)), 0, levels.shape[-1] - 1).astype(int)
    if rule == "median":
        return (np.cumsum(levels / levels.sum(-1, keepdims=True), -1) < 0.5).sum(-1)
    return levels.argmax(-1)


class FrozenBottom(MiniLMBottom):
    """MiniLM's embeddings and bottom FROZEN layers over a (patient turn, reply) pair, from the
    engine's embedder (no second copy of the model); shared by training and run time."""

    def __init__(self, embedder):
        super().__init__(embedder, FROZEN)

    def patients(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.single([trim_patient(t) for t in texts], PATIENT_MAX_TOKENS)

    def replies(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self.single(texts, REPLY_MAX_TOKENS)


def joined(patient: np.ndarray, reply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One pair's input to the top layers: the two texts' bottom states end to end, and token
    types (0 patient, 1 reply) that mark where the segment vector goes and what `pool` averages."""
    types = np.concatenate([np.zeros(len(patient), np.int64), np.ones(len(reply), np.int64)])
    return np.concatenate([patient, reply]).astype(np.float32), types


def pad(torch, items: Sequence[tuple[np.ndarray, np.ndarray]]):
    """(states, token types) pairs -> padded (h, attention mask, types) tensors."""
    h, attn = pad_states(torch, [states for states, _ in items])
    types = np.zeros(tuple(attn.shape), np.int64)
    for i, (_, ty) in enumerate(items):
        types[i, :len(ty)] = ty
    return h, attn, torch.from_numpy(types)


def top(torch, h, attn, types, segment, layers, drop=None):
    """The fine-tuned part: the segment vector on the reply's tokens, the top layers, the pool."""
    h = h + types.unsqueeze(-1).to(h.dtype) * segment
    add = attention_bias(attn, h.dtype)
    for p in layers:
        h = bert_layer(torch, h, add, p)
        if drop is not None:
            h = drop(h)
    return pool(torch, h, attn, types)


class PairModel:
    """Run-time pair model: the shared frozen bottom, then the artefact's fine-tuned layers."""

    def __init__(self, arrays: dict[str, np.ndarray], flags: Sequence[str], nurse: Sequence[str], embedder,
                 onnx: bool = False):
        if "pair.segment" not in arrays:
            raise ValueError("the grader artefact's pair model reads the pair jointly (an older layout); "
                             "retrain it with `bedside grade train`")
        self.bottom = FrozenBottom(embedder)
        torch = self.torch = self.bottom.torch
        t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))
        base = [{k: v.numpy() for k, v in layer.items()} for layer in self.bottom.minilm_top]
        self.top = [{k: t(v) for k, v in layer.items()} for layer in unpack_top_layers(arrays, base)]
        self.head_W, self.head_b = t(arrays["pair.head.W"]), t(arrays["pair.head.b"])
        self.segment = t(arrays["pair.segment"])
        self.flags, self.nurse = tuple(flags), tuple(nurse)
        # its own lock, not the embedder's: the pair pass only reads MiniLM's weights, so it can run
        # on the second core while the reply's own pass (EPITOME, retrieval) runs on the first
        self._lock = threading.Lock()
        self._patients: OrderedDict[str, np.ndarray] = OrderedDict()
        self._onnx = None
        if onnx:
            from ..core.onnx_graphs import cached_graph
            digest = hashlib.sha1(b"".join(np.ascontiguousarray(arrays[k]).tobytes() for k in sorted(arrays) if k.startswith("pair.")))
            self._onnx = cached_graph(("pair", id(embedder.model), digest.hexdigest()), self._onnx_graph)

    def _onnx_graph(self):
        """One pair (patient bottom states, reply ids) -> logits, as one ONNX Runtime graph (`core.onnx_graphs`)."""
        from ..core.onnx_graphs import Graph
        torch, model = self.torch, self

        class OnePair(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embeddings = model.bottom.embeddings

            def forward(self, patient, ids):
                h = self.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                add = attention_bias(torch.ones_like(ids), h.dtype)
                for p in model.bottom.layers:
                    h = bert_layer(torch, h, add, p)
                types = torch.cat([torch.zeros(patient.shape[:2], dtype=torch.int64), torch.ones_like(ids)], dim=1)
                return top(torch, torch.cat([patient, h], dim=1), torch.ones_like(types), types, model.segment,
                           model.top) @ model.head_W + model.head_b

        ids = torch.tensor([[101, 7592, 2045, 102]])
        return Graph(OnePair(), (torch.zeros(1, 5, self.segment.shape[-1]), ids), ["patient", "ids"], ["logits"],
                     {"patient": {1: "patient_tokens"}, "ids": {1: "reply_tokens"}})

    def prefetch(self, patient_turn: str) -> None:
        """The patient's bottom states, computed when the patient says the turn."""
        self._patient_states([patient_turn])

    def _patient_states(self, texts: Sequence[str]) -> list[np.ndarray]:
        with self._lock, self.torch.inference_mode():
            missing = list(dict.fromkeys(t for t in texts if t not in self._patients))
            for text, states in zip(missing, self.bottom.patients(missing) if missing else []):
                self._patients[text] = states
                if len(self._patients) > PATIENT_CACHE:
                    self._patients.popitem(last=False)
            return [self._patients[t] if t in self._patients else self.bottom.patients([t])[0] for t in texts]

    def logits(self, patients: Sequence[str], replies: Sequence[str]) -> np.ndarray:
        torch = self.torch
        pats = self._patient_states(patients)
        if self._onnx is not None and len(replies) == 1:  # a live turn
            enc = self.bottom.tokenizer([replies[0] if replies[0].strip() else "."], truncation=True,
                                        max_length=REPLY_MAX_TOKENS, return_tensors="np")
            return self._onnx(patient=pats[0][None].astype(np.float32), ids=enc["input_ids"].astype(np.int64))[0]
        with self._lock, torch.inference_mode():
            reps = self.bottom.replies(replies)
            h, attn, types = pad(torch, [joined(p, r) for p, r in zip(pats, reps)])
            z = top(torch, h, attn, types, self.segment, self.top) @ self.head_W + self.head_b
        return z.numpy()

    def predict(self, patients: Sequence[str], replies: Sequence[str]) -> list[dict[str, np.ndarray]]:
        """Per pair: `eccs` (7 level probabilities), `nurse` and `flags` (P(yes) each), `space` (3)."""
        z = self.logits(patients, replies)
        sig = 1.0 / (1.0 + np.exp(-z))
        nf, nn = len(self.flags), len(self.nurse)
        out = []
        for row, s in zip(z, sig):
            sp = np.exp(row[6 + nn + nf:] - row[6 + nn + nf:].max())
            out.append({"eccs": ordinal_to_levels(s[:6]), "nurse": s[6:6 + nn], "flags": s[6 + nn:6 + nn + nf],
                        "space": sp / sp.sum()})
        return out


def head_size(flags: Sequence[str], nurse: Sequence[str]) -> int:
    return 6 + len(nurse) + len(flags) + len(SPACE_CLASSES)
