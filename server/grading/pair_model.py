"""The pair model: a MiniLM cross-encoder that reads the patient's turn and the reply together.

The linear heads over separate reply and patient vectors could not tell whether a reply takes
up *this* feeling; attention across both texts can. The bottom FROZEN layers are MiniLM's own
(shared with the engine's embedder, so no second copy is loaded); the top layers were
fine-tuned on labelled pairs and ship in the grader artefact (`pair.*` arrays: their change from
MiniLM's own layers in int8, `pack_top_layers`).

Input: `[CLS] patient turn [SEP] reply [SEP]`, token types 0 and 1. Pooled: the mean of every
token and the mean of the reply's tokens. Heads: ECCS as six ordinal logits P(level > k)
(cumulative link, so adjacent levels share evidence), one logit per NURSE type and text flag,
and VR-CoDES space (3 classes).
"""

from __future__ import annotations

import math
import threading
from typing import Sequence

import numpy as np

FROZEN = 4  # MiniLM layers below the fine-tuned ones
PATIENT_MAX_WORDS = 60  # the end of a long patient turn is what the reply answers
MAX_TOKENS = 160
N_HEADS = 12
SPACE_CLASSES = ("provides", "reduces", "neutral")
ECCS_LEVELS = 7
LAYER_KEYS = ("q.W", "q.b", "k.W", "k.b", "v.W", "v.b", "o.W", "o.b", "ln1.g", "ln1.b", "i.W", "i.b", "out.W", "out.b",
              "ln2.g", "ln2.b")


def trim_patient(text: str) -> str:
    words = text.split()
    return " ".join(words[-PATIENT_MAX_WORDS:]) if words else "."


def layer_params(hf_layer) -> dict[str, "object"]:
    """A Hugging Face BertLayer's weights under this module's names (torch tensors, W as in x @ W)."""
    a, o = hf_layer.attention, hf_layer.output
    s, so = a.self, a.output
    pairs = {"q": s.query, "k": s.key, "v": s.value, "o": so.dense, "i": hf_layer.intermediate.dense, "out": o.dense}
    p = {}
    for k, lin in pairs.items():
        p[f"{k}.W"] = lin.weight.detach().T.contiguous()
        p[f"{k}.b"] = lin.bias.detach()
    p["ln1.g"], p["ln1.b"] = so.LayerNorm.weight.detach(), so.LayerNorm.bias.detach()
    p["ln2.g"], p["ln2.b"] = o.LayerNorm.weight.detach(), o.LayerNorm.bias.detach()
    return p


def bert_layer(torch, h, add_mask, p: dict, eps: float = 1e-12):
    """One BERT encoder layer (post-LayerNorm, exact GELU), written out so it does not depend on
    a transformers version's calling conventions. h: (B, T, D); add_mask: (B, 1, 1, T)."""
    B, T, D = h.shape
    dh = D // N_HEADS

    def heads(x):
        return x.view(B, T, N_HEADS, dh).transpose(1, 2)

    q, k, v = heads(h @ p["q.W"] + p["q.b"]), heads(h @ p["k.W"] + p["k.b"]), heads(h @ p["v.W"] + p["v.b"])
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + add_mask, dim=-1)
    ctx = (att @ v).transpose(1, 2).reshape(B, T, D)
    h1 = torch.nn.functional.layer_norm(ctx @ p["o.W"] + p["o.b"] + h, (D,), p["ln1.g"], p["ln1.b"], eps)
    inter = torch.nn.functional.gelu(h1 @ p["i.W"] + p["i.b"])
    return torch.nn.functional.layer_norm(inter @ p["out.W"] + p["out.b"] + h1, (D,), p["ln2.g"], p["ln2.b"], eps)


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


def pack_top_layers(top: Sequence[dict], base: Sequence[dict]) -> dict[str, np.ndarray]:
    """The fine-tuned layers as artefact arrays: each weight matrix as its change from MiniLM's
    own layer (which the package ships), in int8 with a float16 scale per output column; biases
    and LayerNorm parameters in float16. Fine-tuning moves the weights little, so the int8 step
    is small next to the weights themselves, and the artefact stays a few MB."""
    out: dict[str, np.ndarray] = {}
    for i, (layer, ref) in enumerate(zip(top, base)):
        for k in LAYER_KEYS:
            w = np.asarray(layer[k], dtype=np.float32)
            if k.endswith(".W"):
                delta = w - np.asarray(ref[k], dtype=np.float32)
                scale = np.maximum(np.abs(delta).max(axis=0), 1e-12) / 127.0
                out[f"pair.layer{i}.{k}.q"] = np.round(delta / scale).astype(np.int8)
                out[f"pair.layer{i}.{k}.s"] = scale.astype(np.float16)
            else:
                out[f"pair.layer{i}.{k}"] = w.astype(np.float16)
    return out


def unpack_top_layers(arrays: dict[str, np.ndarray], base: Sequence[dict]) -> list[dict[str, np.ndarray]]:
    """Inverse of `pack_top_layers`: float32 weights of each fine-tuned layer."""
    out = []
    for i, ref in enumerate(base):
        layer = {}
        for k in LAYER_KEYS:
            if k.endswith(".W"):
                delta = arrays[f"pair.layer{i}.{k}.q"].astype(np.float32) * arrays[f"pair.layer{i}.{k}.s"].astype(np.float32)
                layer[k] = np.asarray(ref[k], dtype=np.float32) + delta
            else:
                layer[k] = arrays[f"pair.layer{i}.{k}"].astype(np.float32)
        out.append(layer)
    return out


class FrozenBottom:
    """MiniLM's embeddings and bottom FROZEN layers over a (patient turn, reply) pair, from the
    engine's embedder (no second copy of the model); shared by training and run time."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.torch = embedder._torch
        self.tokenizer = embedder.tokenizer
        hf = embedder.model
        self.embeddings = hf.embeddings
        self.layers = [layer_params(hf.encoder.layer[i]) for i in range(FROZEN)]
        self.minilm_top = [layer_params(layer) for layer in hf.encoder.layer[FROZEN:]]

    def batch(self, patients: Sequence[str], replies: Sequence[str]):
        return self.tokenizer([trim_patient(p) for p in patients], [r if r.strip() else "." for r in replies], padding=True,
                              truncation="longest_first", max_length=MAX_TOKENS, return_tensors="pt")

    def states(self, enc):
        """Hidden states after the FROZEN bottom layers (what training caches)."""
        h = self.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])
        add = attention_bias(enc["attention_mask"], h.dtype)
        for p in self.layers:
            h = bert_layer(self.torch, h, add, p)
        return h


def attention_bias(mask, dtype):
    return (1.0 - mask[:, None, None, :].to(dtype)) * -1e9


class PairModel:
    """Run-time pair model: the shared frozen bottom, then the artefact's fine-tuned layers."""

    def __init__(self, arrays: dict[str, np.ndarray], flags: Sequence[str], nurse: Sequence[str], embedder):
        self.bottom = FrozenBottom(embedder)
        torch = self.torch = self.bottom.torch
        t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))
        base = [{k: v.numpy() for k, v in layer.items()} for layer in self.bottom.minilm_top]
        self.top = [{k: t(v) for k, v in layer.items()} for layer in unpack_top_layers(arrays, base)]
        self.head_W, self.head_b = t(arrays["pair.head.W"]), t(arrays["pair.head.b"])
        self.flags, self.nurse = tuple(flags), tuple(nurse)
        # its own lock, not the embedder's: the pair pass only reads MiniLM's weights, so it can run
        # on the second core while the reply's own pass (EPITOME, retrieval) runs on the first
        self._lock = threading.Lock()

    def logits(self, patients: Sequence[str], replies: Sequence[str]) -> np.ndarray:
        torch = self.torch
        with self._lock, torch.inference_mode():
            enc = self.bottom.batch(patients, replies)
            h = self.bottom.states(enc)
            add = attention_bias(enc["attention_mask"], h.dtype)
            for p in self.top:
                h = bert_layer(torch, h, add, p)
            z = pool(torch, h, enc["attention_mask"], enc["token_type_ids"]) @ self.head_W + self.head_b
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
