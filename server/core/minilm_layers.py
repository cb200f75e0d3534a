"""MiniLM's encoder layers written out, for models that fine-tune only its top layers.

The grader's pair model and the end-of-turn text model both run the engine's MiniLM (the
process's shared embedder, so no second copy is loaded) through its bottom layers, then top
layers of their own that were fine-tuned and ship as small int8 deltas from MiniLM's own.
The layer is written out here so it does not depend on a transformers version's calling
conventions.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

N_HEADS = 12
LAYER_KEYS = ("q.W", "q.b", "k.W", "k.b", "v.W", "v.b", "o.W", "o.b", "ln1.g", "ln1.b", "i.W", "i.b", "out.W", "out.b",
              "ln2.g", "ln2.b")


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
    """One BERT encoder layer (post-LayerNorm, exact GELU). h: (B, T, D); add_mask: (B, 1, 1, T)."""
    B, T = h.shape[0], h.shape[1]
    D = int(p["ln1.g"].shape[0])  # a plain int, so an ONNX export keeps the LayerNorm shape static
    dh = D // N_HEADS

    def heads(x):
        return x.view(B, T, N_HEADS, dh).transpose(1, 2)

    q, k, v = heads(h @ p["q.W"] + p["q.b"]), heads(h @ p["k.W"] + p["k.b"]), heads(h @ p["v.W"] + p["v.b"])
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + add_mask, dim=-1)
    ctx = (att @ v).transpose(1, 2).reshape(B, T, D)
    h1 = torch.nn.functional.layer_norm(ctx @ p["o.W"] + p["o.b"] + h, (D,), p["ln1.g"], p["ln1.b"], eps)
    inter = torch.nn.functional.gelu(h1 @ p["i.W"] + p["i.b"])
    return torch.nn.functional.layer_norm(inter @ p["out.W"] + p["out.b"] + h1, (D,), p["ln2.g"], p["ln2.b"], eps)


def attention_bias(mask, dtype):
    return (1.0 - mask[:, None, None, :].to(dtype)) * -1e9


def pack_top_layers(top: Sequence[dict], base: Sequence[dict], prefix: str = "pair") -> dict[str, np.ndarray]:
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
                out[f"{prefix}.layer{i}.{k}.q"] = np.round(delta / scale).astype(np.int8)
                out[f"{prefix}.layer{i}.{k}.s"] = scale.astype(np.float16)
            else:
                out[f"{prefix}.layer{i}.{k}"] = w.astype(np.float16)
    return out


def unpack_top_layers(arrays: dict[str, np.ndarray], base: Sequence[dict], prefix: str = "pair") -> list[dict[str, np.ndarray]]:
    """Inverse of `pack_top_layers`: float32 weights of each fine-tuned layer."""
    out = []
    for i, ref in enumerate(base):
        layer = {}
        for k in LAYER_KEYS:
            if k.endswith(".W"):
                delta = arrays[f"{prefix}.layer{i}.{k}.q"].astype(np.float32) * arrays[f"{prefix}.layer{i}.{k}.s"].astype(np.float32)
                layer[k] = np.asarray(ref[k], dtype=np.float32) + delta
            else:
                layer[k] = arrays[f"{prefix}.layer{i}.{k}"].astype(np.float32)
        out.append(layer)
    return out


class MiniLMBottom:
    """MiniLM's embeddings and its bottom `frozen` layers over single texts, from the engine's
    embedder; `minilm_top` holds MiniLM's own weights of the layers above, the base of a fine-tune."""

    def __init__(self, embedder, frozen: int):
        self.embedder = embedder
        self.torch = embedder._torch
        self.tokenizer = embedder.tokenizer
        hf = embedder.model
        self.embeddings = hf.embeddings
        self.layers = [layer_params(hf.encoder.layer[i]) for i in range(frozen)]
        self.minilm_top = [layer_params(layer) for layer in hf.encoder.layer[frozen:]]

    def single(self, texts: Sequence[str], max_tokens: int) -> list[np.ndarray]:
        """Per text, the hidden states of `[CLS] text [SEP]` after the bottom layers (float32,
        real tokens only)."""
        torch = self.torch
        with torch.inference_mode():
            enc = self.tokenizer([t if t.strip() else "." for t in texts], padding=True, truncation=True,
                                 max_length=max_tokens, return_tensors="pt")
            ids = enc["input_ids"]
            h = self.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
            add = attention_bias(enc["attention_mask"], h.dtype)
            for p in self.layers:
                h = bert_layer(torch, h, add, p)
            n = enc["attention_mask"].sum(1).tolist()
            return [h[j, :n[j]].numpy() for j in range(len(texts))]


def pad_states(torch, states: Sequence[np.ndarray]):
    """Variable-length (T, D) states -> padded (B, T, D) tensor and (B, T) attention mask."""
    T = max(len(s) for s in states)
    h = np.zeros((len(states), T, states[0].shape[1]), np.float32)
    attn = np.zeros((len(states), T), np.int64)
    for i, s in enumerate(states):
        h[i, :len(s)] = s
        attn[i, :len(s)] = 1
    return torch.from_numpy(h), torch.from_numpy(attn)
