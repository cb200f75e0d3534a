"""3-fold CV of what `TrainedGrader.grade` returns, on the real-dialogue *train* split only.

The tool for design choices on the grader: the frozen test split is never read here. Folds are
by dialogue; each fold's pair model is trained on the seed train split plus the other two folds,
put into a copy of the shipped grader, and the held-out fold is graded as `bedside grade` would.
Writes every held-out grade with the pair model's raw level probabilities (--dump) so decision
rules can be compared without retraining.

    .venv/bin/python eval/experiments/cv_grader_train.py --shared ../shared/data [--extra labels.jsonl] [--dump out.jsonl]
        [--models DIR [--reuse]] [--cuts 0.5] [--earlier]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from eval.bench.bench_grader_real import context_of, qwk  # noqa: E402
from server.grading.base import TEXT_FLAGS  # noqa: E402
from server.grading.dialogues import earlier_by_id  # noqa: E402
from server.grading.data_sources import RealLabel, SeedRow, load_real_labels, load_seed, real_rows, shared_dir  # noqa: E402
from server.grading.base import Epitome  # noqa: E402
from server.grading.pair_model import PairModel  # noqa: E402
from server.grading.pair_train import PairTrainer  # noqa: E402
from server.grading.trained import TrainedGrader  # noqa: E402

FOLDS = 3
COUNTERFACTUALS = REPO / "eval" / "experiments" / "counterfactuals" / "replies.jsonl"


class Counterfactual(BaseModel):
    """A reply the project wrote to a real train-split patient turn at another ECCS level
    (eval/experiments/counterfactuals/README.md)."""

    source: str
    k: int
    reply: str
    opportunity: str
    emotion: str | None
    eccs: int
    nurse: list[str]
    flags: list[str]
    space: str


def counterfactual_rows(shared: Path, keep, path: Path) -> list[SeedRow]:
    """The counterfactual replies whose source `keep` accepts, each with its source's patient turn
    read from the shared data."""
    from server.grading.dialogues import pairs_by_id
    items = [Counterfactual.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [c for c in items if keep(c.source)]
    pairs = pairs_by_id(str(shared), sorted({c.source for c in items}))
    return [SeedRow(id=f"cf:{c.source}#{c.k}", context=pairs[c.source].patient, opportunity=c.opportunity,
                    emotion=c.emotion or "calm", response=c.reply, eccs=c.eccs, nurse=c.nurse, flags=c.flags,
                    epitome=Epitome(), space=c.space, question_type="none", named_emotion=None,
                    empathic_accuracy=None, split="train") for c in items]


class Averaged:
    """Several pair models read as one: each output averaged (an experiment on seed ensembles)."""

    def __init__(self, models: list[PairModel]):
        self.models, self.flags, self.nurse = models, models[0].flags, models[0].nurse

    def prefetch(self, patient_turn: str) -> None:
        for m in self.models:
            m.prefetch(patient_turn)

    def predict(self, patients, replies):
        readings = [m.predict(patients, replies) for m in self.models]
        return [{key: np.mean([r[i][key] for r in readings], axis=0) for key in readings[0][i]} for i in range(len(replies))]


def fold_of(row_id: str) -> int:
    dialogue = row_id.rsplit("/", 1)[0]
    return int(hashlib.sha1(f"cv:{dialogue}".encode()).hexdigest()[:8], 16) % FOLDS


def held_out_levels(real, models: str | None) -> dict[str, tuple[np.ndarray, int, int]]:
    """Each opportunity's level distribution from the model of the fold that held it out."""
    if not models:
        raise SystemExit("--cuts needs --models (every fold's model, trained or reused)")
    out = {}
    for k in range(FOLDS):
        saved = Path(models) / f"fold{k}"
        arrays, pmeta = dict(np.load(f"{saved}.npz")), json.loads(Path(f"{saved}.json").read_text())
        held = [r for r in real if fold_of(r.id) == k and r.eccs is not None]
        model = PairModel(arrays, pmeta["flags"], pmeta["nurse"], TrainedGrader().encoder.embedder)
        for r, q in zip(held, model.predict([r.context for r in held], [r.response for r in held])):
            out[r.id] = (np.asarray(q["eccs"], dtype=np.float64), r.eccs, k)
    return out


def fit_cuts(levels: np.ndarray, gold: np.ndarray, weight: float) -> list[float]:
    """Cut points on the expected level maximising QWK + weight x exact, by coordinate search;
    each cut stays between its two levels, so a model sure of a level gives that level."""
    expected = levels @ np.arange(levels.shape[1]) / levels.sum(1)
    score = lambda c: qwk(gold, np.searchsorted(np.sort(c), expected)) + weight * np.mean(gold == np.searchsorted(np.sort(c), expected))
    cuts = np.arange(0.5, levels.shape[1] - 1, 1.0)
    best = score(cuts)
    for _ in range(4):
        for i in range(len(cuts)):
            for v in np.arange(max(cuts[i] - 0.6, i + 0.01), min(cuts[i] + 0.6, i + 0.99), 0.02):
                trial = cuts.copy()
                trial[i] = v
                if (got := score(trial)) > best:
                    best, cuts = got, trial
    return [round(float(c), 2) for c in cuts]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--extra", action="append", default=[], help="more train-split label files (same format)")
    ap.add_argument("--counterfactuals", default=None, nargs="?", const=str(COUNTERFACTUALS),
                    help="also train on the counterfactual replies (data/real/counterfactuals.jsonl, or this file) "
                         "whose source is outside the held-out fold")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--folds", default="012")
    ap.add_argument("--seed", type=int, default=0, help="the pair model's training seed (weights, order, development share)")
    ap.add_argument("--dump", default=None)
    ap.add_argument("--models", default=None, help="keep each fold's pair model here (npz + json) to re-grade without retraining")
    ap.add_argument("--reuse", action="store_true", help="load the fold models from --models instead of training")
    ap.add_argument("--ensemble", action="append", default=[], metavar="DIR",
                    help="with --reuse: average the --models fold model with these directories' fold models "
                         "(other seeds), as one reading")
    ap.add_argument("--cuts", type=float, default=None, metavar="WEIGHT",
                    help="decide the level by cut points, each fold's fitted on the other folds' held-out levels "
                         "(maximising QWK + WEIGHT x exact); needs every fold's model in --models")
    ap.add_argument("--earlier", action="store_true",
                    help="pass what the patient said earlier in the consultation, as the engine does in a session")
    a = ap.parse_args(argv)
    shared = shared_dir(a.shared)
    labels = load_real_labels("train")
    for path in a.extra:
        labels += [RealLabel.model_validate_json(line) for line in Path(path).read_text().splitlines() if line.strip()]
    assert all(l.split == "train" for l in labels)
    real = real_rows(labels, shared)
    earlier = earlier_by_id(str(shared), [r.id for r in real]) if a.earlier else {}
    seed = load_seed("train")
    grader = TrainedGrader()
    meta = grader.artefact.meta
    out = open(a.dump, "w") if a.dump else None
    ys, ps = [], []
    held_levels = held_out_levels(real, a.models) if a.cuts is not None else {}
    for k in map(int, a.folds):
        train = [r for r in real if fold_of(r.id) != k]
        held = [r for r in real if fold_of(r.id) == k and r.eccs is not None]
        saved = Path(a.models or "/nonexistent") / f"fold{k}"
        if a.reuse:
            arrays, pmeta = dict(np.load(f"{saved}.npz")), json.loads(Path(f"{saved}.json").read_text())
        else:
            trainer = PairTrainer(grader.encoder.embedder, TEXT_FLAGS, a.seed, print)
            cf = counterfactual_rows(shared, lambda source: fold_of(source) != k, Path(a.counterfactuals)) if a.counterfactuals else []
            arrays, pmeta = trainer.fit(seed + train + cf, **({"epochs": a.epochs} if a.epochs else {}))
            if a.models:
                Path(a.models).mkdir(parents=True, exist_ok=True)
                np.savez(f"{saved}.npz", **arrays)
                Path(f"{saved}.json").write_text(json.dumps(pmeta))
        grader.pair = PairModel(arrays, pmeta["flags"], pmeta["nurse"], grader.encoder.embedder)
        if a.ensemble:
            grader.pair = Averaged([grader.pair] + [PairModel(dict(np.load(Path(d) / f"fold{k}.npz")), pmeta["flags"], pmeta["nurse"],
                                                              grader.encoder.embedder) for d in a.ensemble])
        if a.cuts is not None:
            others = [(lv, g) for rid, (lv, g, f) in held_levels.items() if f != k]
            pmeta = {**pmeta, "eccs_rule": "cutpoints",
                     "eccs_cuts": fit_cuts(np.array([lv for lv, _ in others]), np.array([g for _, g in others]), a.cuts)}
            print(f"fold {k} cuts {pmeta['eccs_cuts']}", flush=True)
        meta.pair = pmeta
        grader._pair_readings.clear()
        raw = grader.pair.predict([r.context for r in held], [r.response for r in held])
        for r, q in zip(held, raw):
            g = grader.grade(r.response, context_of(r, earlier.get(r.id, "")))
            ys.append(r.eccs)
            ps.append(g.eccs)
            if out:
                out.write(json.dumps({"id": r.id, "fold": k, "gold": r.eccs, "pred": g.eccs, "flags": g.flags, "gold_flags": r.flags,
                                      "levels": np.round(q["eccs"], 4).tolist(), "context": r.context,
                                      "response": r.response}) + "\n")
        y, p = np.array(ys), np.array(ps)
        print(f"after fold {k}: n={len(y)} QWK {qwk(y, p):.3f} exact {np.mean(y == p):.3f}", flush=True)
    y, p = np.array(ys), np.array(ps)
    cm = np.zeros((7, 7), int)
    for g, q in zip(y, p):
        cm[g, q] += 1
    print("confusion (rows gold 0-6, columns predicted):\n" + "\n".join(" ".join(f"{v:4d}" for v in row) for row in cm))
    print(f"CV QWK {qwk(y, p):.3f} exact {np.mean(y == p):.3f} n={len(y)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
