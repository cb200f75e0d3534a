"""Scores of a binary end-of-turn judge: accuracy and F1 per class (complete = 1)."""

from __future__ import annotations

import numpy as np


def scores(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, F1 of each class (complete = 1), and their mean."""
    y = np.asarray(y).astype(bool)
    pred = np.asarray(p) >= threshold

    def f1(pos: bool) -> float:
        tp = np.sum((pred == pos) & (y == pos))
        return float(2 * tp / max(1, np.sum(pred == pos) + np.sum(y == pos)))

    return {"accuracy": float(np.mean(pred == y)), "f1_complete": f1(True), "f1_unfinished": f1(False),
            "macro_f1": (f1(True) + f1(False)) / 2}
