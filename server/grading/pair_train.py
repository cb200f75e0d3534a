"""Fine-tune the pair model's top layers and heads (`pair_model`), on this 2-core CPU.

The bottom FROZEN MiniLM layers are fixed and read each text on its own, so their output is
computed once per text (a patient line shared by many replies once) and kept in memory; each
epoch then runs only the segment vector, the top layers and the heads. Every training pair also appears as an
ASR-noised copy (`asr_noise`), so the grade learns not to move with recognition errors.

Multi-task loss: ECCS as cumulative-link binary targets (level > k) on opportunity rows; NURSE
types and text flags as binary targets (topic_switch on opportunity rows only); space as three
classes. Binary heads get the F1-best threshold on a development share of the training groups
(never the test split), and the ECCS decision rule (most probable level, or the ordinal median)
is chosen on the same share.
"""

from __future__ import annotations

import hashlib
import logging
import random
from typing import Callable, Sequence

import numpy as np

from .asr_noise import noisy
from .base import ALL_NURSE
from .data_sources import SeedRow
from .pair_model import (FROZEN, LAYER_KEYS, SPACE_CLASSES, FrozenBottom, PairModel, decide_level, head_size, joined, layer_params,
                         pack_top_layers, pad, top)

log = logging.getLogger(__name__)

EPOCHS = 8
BATCH = 32
LR_LAYERS = 1e-4
LR_HEAD = 1e-3
DEV_SHARE = 0.12
THRESHOLDS = np.round(np.arange(0.15, 0.86, 0.05), 2)
NOISED_COPIES = 1
# Real consultations are what the grade is for; the seed set's invented pairs are many more. In
# 3-fold CV on the real train split (folds by dialogue), weighting real rows 3x in the ECCS loss
# gave QWK 0.331 against 0.308 unweighted (argmax of the level distribution).
REAL_WEIGHT = 3.0
# The ECCS decision: the expected level, cut at ECCS_CUTS. The model leans to the common level 2
# (in CV it gave 2 to about half the replies the coders put at 3); cutting the expected level
# where the coders' levels change spreads it back out. In 3-fold CV on the real train split
# (695 opportunities, what TrainedGrader.grade returns with the convention layer; each fold's
# cuts fitted on the other two folds' held-out levels, maximising QWK + 0.5 x exact, each cut
# kept between its two levels so that a model sure of a level gives that level): see
# docs/grading.md for the figures. The cuts below are fitted the same way on all three folds'
# held-out levels.
ECCS_RULE = "cutpoints"
ECCS_CUTS = (0.61, 1.73, 2.09, 3.07, 4.85, 5.5)


def _group(row: SeedRow) -> str:
    """Rows that share a dialogue (real data) or a patient line (seed set) stay on one side."""
    rid = row.id.removeprefix("cf:").split("#", 1)[0]  # a counterfactual stays with its source's group
    return rid.rsplit("/", 1)[0] if rid.startswith(("aci/", "mts/")) else row.context


def dev_mask(rows: Sequence[SeedRow], seed: int) -> np.ndarray:
    h = lambda g: int(hashlib.sha1(f"{seed}:{g}".encode()).hexdigest()[:8], 16) % 1000
    return np.array([h(_group(r)) < DEV_SHARE * 1000 for r in rows])


REAL_PREFIXES = ("aci/", "mts/", "annomi/")


def targets(rows: Sequence[SeedRow], flags: Sequence[str]) -> dict[str, np.ndarray]:
    opp = np.array([r.eccs is not None for r in rows])
    eccs = np.array([r.eccs if r.eccs is not None else 0 for r in rows])
    return {
        "opp": opp,
        "weight": np.array([REAL_WEIGHT if r.id.startswith(REAL_PREFIXES) else 1.0 for r in rows], np.float32),
        "ordinal": (eccs[:, None] > np.arange(6)[None, :]).astype(np.float32),
        "eccs": eccs,
        "nurse": np.array([[t in r.nurse for t in ALL_NURSE] for r in rows], np.float32),
        "flags": np.array([[f in r.flags for f in flags] for r in rows], np.float32),
        "flag_mask": np.array([[f != "topic_switch" or (r.eccs is not None) for f in flags] for r in rows], np.float32),
        "space": np.array([SPACE_CLASSES.index(r.space) for r in rows]),
    }


class PairTrainer:
    def __init__(self, embedder, flags: Sequence[str], seed: int = 0, report: Callable[[str], None] = log.info):
        import torch
        self.torch, self.embedder, self.flags, self.seed, self.report = torch, embedder, tuple(flags), seed, report
        self.hf = embedder.model
        self.bottom = FrozenBottom(embedder)

    def frozen(self, patients: Sequence[str], replies: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per pair: (bottom-layer states of the patient's and the reply's tokens end to end,
        float16; token types)."""
        torch = self.torch
        unique = list(dict.fromkeys(patients))
        with torch.inference_mode():
            pat = {}
            for i in range(0, len(unique), 64):
                pat.update(zip(unique[i:i + 64], (x.astype(np.float16) for x in self.bottom.patients(unique[i:i + 64]))))
            out = []
            for i in range(0, len(replies), 64):
                for p, r in zip(patients[i:i + 64], self.bottom.replies(replies[i:i + 64])):
                    h, types = joined(pat[p], r)
                    out.append((h.astype(np.float16), types))
        return out

    def fit(self, rows: Sequence[SeedRow], *, epochs: int = EPOCHS) -> tuple[dict[str, np.ndarray], dict]:
        """Train on `rows` (a dev share held back for thresholds); returns (arrays, meta)."""
        torch = self.torch
        torch.manual_seed(self.seed)
        rng = random.Random(self.seed)
        rows = list(rows)
        dev = dev_mask(rows, self.seed)
        train_rows = [r for r, d in zip(rows, dev) if not d]
        dev_rows = [r for r, d in zip(rows, dev) if d]
        # each training pair, plus ASR-noised copies of it
        pats, reps, src = [], [], []
        for i, r in enumerate(train_rows):
            pats.append(r.context)
            reps.append(r.response)
            src.append(i)
            for _ in range(NOISED_COPIES):
                pats.append(noisy(r.context, rng, 0.5) if rng.random() < 0.5 else r.context)
                reps.append(noisy(r.response, rng))
                src.append(i)
        self.report(f"pair model: {len(train_rows)} training pairs (+{len(pats) - len(train_rows)} ASR-noised), "
                    f"{len(dev_rows)} development pairs; encoding the frozen layers")
        states = self.frozen(pats, reps)
        y = targets(train_rows, self.flags)
        src = np.array(src)
        n_top = len(self.hf.encoder.layer) - FROZEN
        params = torch.nn.ParameterDict()
        for li in range(n_top):
            for k, v in layer_params(self.hf.encoder.layer[FROZEN + li]).items():
                params[f"l{li}_{k.replace('.', '_')}"] = torch.nn.Parameter(v.clone().float())
        head = torch.nn.Linear(2 * self.hf.config.hidden_size, head_size(self.flags, ALL_NURSE))
        segment = torch.nn.Parameter(torch.zeros(self.hf.config.hidden_size))
        pos = y["flags"].sum(0)
        pos_w = torch.tensor(np.clip(np.sqrt((len(y["flags"]) - pos) / np.maximum(pos, 1)), 1.0, 6.0), dtype=torch.float32)
        npos = y["nurse"].sum(0)
        nurse_w = torch.tensor(np.clip(np.sqrt((len(y["nurse"]) - npos) / np.maximum(npos, 1)), 1.0, 6.0), dtype=torch.float32)
        opt = torch.optim.AdamW([{"params": list(params.values()), "lr": LR_LAYERS}, {"params": [*head.parameters(), segment], "lr": LR_HEAD}],
                                weight_decay=0.01)
        order = np.argsort([len(s[0]) for s in states], kind="stable")
        batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
        total = epochs * len(batches)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: max(0.0, 1.0 - step / total))
        drop = torch.nn.Dropout(0.1)
        nn_, nf = len(ALL_NURSE), len(self.flags)
        for ep in range(epochs):
            rng.shuffle(batches)
            run = 0.0
            for b in batches:
                h, attn, types = pad(torch, [states[i] for i in b])
                z = head(drop(top(torch, h, attn, types, segment, [_layer(params, li) for li in range(n_top)], drop)))
                s = src[b]
                t = lambda a: torch.from_numpy(np.asarray(a[s]))
                opp = t(y["opp"]).float() * t(y["weight"])
                l_ord = (torch.nn.functional.binary_cross_entropy_with_logits(z[:, :6], t(y["ordinal"]), reduction="none").mean(1)
                         * opp).sum() / opp.sum().clamp(min=1.0)
                l_nurse = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 6:6 + nn_], t(y["nurse"]), pos_weight=nurse_w)
                fm = t(y["flag_mask"])
                l_flag = (torch.nn.functional.binary_cross_entropy_with_logits(z[:, 6 + nn_:6 + nn_ + nf], t(y["flags"]),
                                                                               pos_weight=pos_w, reduction="none") * fm).sum() \
                    / fm.sum().clamp(min=1.0)
                l_space = torch.nn.functional.cross_entropy(z[:, 6 + nn_ + nf:], t(y["space"]))
                loss = 2.0 * l_ord + l_nurse + l_flag + l_space
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                run += loss.item()
            self.report(f"pair model: epoch {ep + 1}/{epochs}, loss {run / len(batches):.4f}")
        arrays = pack_top_layers([{k: v.detach().numpy() for k, v in _layer(params, li).items()} for li in range(n_top)],
                                 [{k: v.numpy() for k, v in layer.items()} for layer in self.bottom.minilm_top])
        arrays["pair.head.W"] = head.weight.detach().numpy().T.astype(np.float16).copy()
        arrays["pair.head.b"] = head.bias.detach().numpy().astype(np.float16)
        arrays["pair.segment"] = segment.detach().numpy().astype(np.float16)
        meta = {"frozen": FROZEN, "flags": list(self.flags), "nurse": list(ALL_NURSE), "rows": len(train_rows),
                "dev_rows": len(dev_rows), "epochs": epochs, "noised_copies": NOISED_COPIES,
                "inputs": "late interaction: each text through the frozen layers on its own, the top layers over both"}
        meta.update(self.calibrate(arrays, dev_rows))
        return arrays, meta

    def calibrate(self, arrays: dict[str, np.ndarray], dev_rows: Sequence[SeedRow]) -> dict:
        """Thresholds and the ECCS decision rule, chosen on the development share."""
        model = PairModel(arrays, self.flags, ALL_NURSE, self.embedder)
        preds = []
        for i in range(0, len(dev_rows), 64):
            chunk = dev_rows[i:i + 64]
            preds += model.predict([r.context for r in chunk], [r.response for r in chunk])
        y = targets(dev_rows, self.flags)
        thr = {}
        for name, col, mask in [(f"nurse_{t}", ("nurse", j), None) for j, t in enumerate(ALL_NURSE)] + \
                [(f"flag_{f}", ("flags", j), y["opp"] if f == "topic_switch" else None) for j, f in enumerate(self.flags)]:
            p = np.array([q[col[0]][col[1]] for q in preds])
            g = y[col[0]][:, col[1]] > 0.5
            keep = np.ones(len(p), bool) if mask is None else mask
            thr[name] = best_threshold(p[keep], g[keep])
        opp = y["opp"]
        levels = np.array([q["eccs"] for q in preds])[opp]
        gold = y["eccs"][opp]
        rules = {name: decide_level(levels, name, ECCS_CUTS) for name in ("argmax", "median", "expected", "cutpoints")} if len(gold) else {}
        scored = {k: quadratic_kappa(gold, v) for k, v in rules.items()}
        self.report(f"pair model: development share ECCS QWK {scored}; rule {ECCS_RULE} (chosen in CV); thresholds {thr}")
        return {"thresholds": thr, "eccs_rule": ECCS_RULE, "eccs_cuts": list(ECCS_CUTS), "dev_qwk": scored}


def _layer(params, li: int) -> dict:
    return {k: params[f"l{li}_{k.replace('.', '_')}"] for k in LAYER_KEYS}


def best_threshold(p: np.ndarray, g: np.ndarray) -> float:
    if not g.any():
        return 0.5
    def f1(t: float) -> float:
        q = p >= t
        return 2 * (q & g).sum() / max(1, q.sum() + g.sum())
    return float(max(THRESHOLDS, key=lambda t: (f1(t), -abs(t - 0.5))))


def quadratic_kappa(a: np.ndarray, b: np.ndarray, k: int = 7) -> float:
    a, b = np.asarray(a, int), np.asarray(b, int)
    if not len(a):
        return 0.0
    O = np.zeros((k, k))
    for x, y in zip(a, b):
        O[x, y] += 1
    W = (np.subtract.outer(np.arange(k), np.arange(k)) ** 2) / (k - 1) ** 2
    E = np.outer(O.sum(1), O.sum(0)) / O.sum()
    den = (W * E).sum()
    return float(1.0 - (W * O).sum() / den) if den else 1.0


__all__ = ["PairTrainer", "quadratic_kappa"]
