"""Attention pooling over a reply's token states: a part of the EPITOME interpretations head that
reads words rather than whole sentences.

Why: an interpretation is often one clause inside a longer reply ("that must feel so lonely",
"I went through the same"); the reply's mean embedding and even a sentence's mean dilute it.
This part scores every token, pools the reply's hidden-layer `SENT_LAYER` token states with the
softmax of those scores, and a linear layer over [attention-pooled, mean-pooled] gives the class
probabilities. The scores are also trained, as an auxiliary target, to pick out the tokens of
the raters' rationale spans, so the attention learns where the raters looked.

Training uses torch (already a dependency); run time is a few numpy products over the stored
weights and the token states that the reply's one MiniLM forward pass already produced, so the
part adds no forward pass. Both paths compute probabilities with `pool_probabilities`, so the
shipped numbers are the trained ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

POOL_EPOCHS = 20
POOL_LR = 3e-3
POOL_WEIGHT_DECAY = 1e-2
POOL_BATCH = 32
POOL_DROPOUT = 0.1
POOL_RATIONALE_WEIGHT = 0.5  # weight of the rationale-token loss next to the class loss
POOL_ARRAYS = ("u", "ub", "W", "b")


@dataclass
class TokenPool:
    """The part's weights: token scorer (u, ub) and the class layer (W over [pooled, mean], b)."""

    u: np.ndarray
    ub: np.ndarray
    W: np.ndarray
    b: np.ndarray

    def proba(self, tokens: Sequence[np.ndarray]) -> np.ndarray:
        return pool_probabilities(self.arrays(""), "", tokens)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}{k}": getattr(self, k).astype(np.float32) for k in POOL_ARRAYS}


def pool_probabilities(arrays: dict, prefix: str, tokens: Sequence[np.ndarray]) -> np.ndarray:
    """Class probabilities, one row per reply; `tokens[i]` is reply i's (n_tokens, dim) states,
    special tokens included, as `encoder.TextEncoder` returns them."""
    u, ub, W, b = (np.asarray(arrays[f"{prefix}{k}"], dtype=np.float32) for k in POOL_ARRAYS)
    out = np.zeros((len(tokens), len(b)), dtype=np.float64)
    for i, h in enumerate(tokens):
        h = np.asarray(h, dtype=np.float32)
        if not len(h):
            raise ValueError("a reply without token states cannot be pooled; encode it with TextEncoder first")
        s = h @ u + ub[0]
        a = np.exp(s - s.max())
        a /= a.sum()
        z = W @ np.concatenate([a @ h, h.mean(axis=0)]) + b
        z = np.exp(z - z.max())
        out[i] = z / z.sum()
    return out


def rationale_token_labels(text: str, offsets: np.ndarray, rationale: str) -> np.ndarray:
    """1.0 for each token whose characters overlap a rater's rationale span (spans are joined
    with "|" in EPITOME and found in the reply case-insensitively), else 0.0."""
    low = text.lower()
    spans = []
    for piece in rationale.split("|"):
        piece = piece.strip().lower()
        if len(piece) > 2 and (k := low.find(piece)) >= 0:
            spans.append((k, k + len(piece)))
    return np.array([float(b > a and any(a < e and b > s for s, e in spans)) for a, b in np.asarray(offsets)],
                    dtype=np.float32)


def fit_token_pool(tokens: Sequence[np.ndarray], rationale: Sequence[np.ndarray], y: np.ndarray, seed: int) -> TokenPool:
    """Fit on replies' token states with their levels `y` (0/1/2, classes balanced) and, per
    token, whether it lies in the rationale. Reproducible for a seed on one machine: fixed
    torch seed, batches cut from a seeded permutation, padded to the batch's longest reply."""
    import torch

    n, dim = len(tokens), tokens[0].shape[1]
    lengths = np.array([len(t) for t in tokens])
    X = torch.zeros(n, int(lengths.max()), dim)
    R = torch.zeros(n, int(lengths.max()))
    for i, (t, r) in enumerate(zip(tokens, rationale)):
        X[i, :len(t)] = torch.from_numpy(np.asarray(t, dtype=np.float32))
        R[i, :len(r)] = torch.from_numpy(np.asarray(r, dtype=np.float32))
    mask = torch.arange(X.shape[1])[None, :] < torch.from_numpy(lengths)[:, None]
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    weight = torch.tensor(n / (3 * np.maximum(1, np.bincount(y, minlength=3))), dtype=torch.float32)

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    scorer, cls, drop = torch.nn.Linear(dim, 1), torch.nn.Linear(2 * dim, 3), torch.nn.Dropout(POOL_DROPOUT)
    params = [*scorer.parameters(), *cls.parameters()]
    opt = torch.optim.AdamW(params, lr=POOL_LR, weight_decay=POOL_WEIGHT_DECAY)
    for _ in range(POOL_EPOCHS):
        for batch in np.array_split(rng.permutation(n), max(1, n // POOL_BATCH)):
            b = torch.from_numpy(batch)
            width = int(lengths[batch].max())
            x, m = X[b, :width], mask[b, :width]
            scores = scorer(x).squeeze(-1)
            a = torch.softmax(scores.masked_fill(~m, -1e9), dim=1)
            pooled = (a.unsqueeze(-1) * x).sum(1)
            mean = (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True)
            loss = torch.nn.functional.cross_entropy(cls(drop(torch.cat([pooled, mean], -1))), yt[b], weight=weight)
            loss = loss + POOL_RATIONALE_WEIGHT * torch.nn.functional.binary_cross_entropy_with_logits(scores[m], R[b, :width][m])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return TokenPool(u=scorer.weight[0].numpy().copy(), ub=scorer.bias.numpy().copy(),
                         W=cls.weight.numpy().copy(), b=cls.bias.numpy().copy())
