"""Agreement statistics between two raters' labels on the same items.

Cohen's kappa (unweighted for nominal labels, linear or quadratic weights for ordinal
ones, where the weight is the squared distance between the numeric levels), Lin's
concordance correlation coefficient, exact and within-one agreement, and the confusion
matrix. Functions return None when a statistic is undefined (no items, or no variation
to agree beyond chance about) rather than a misleading number.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from statistics import fmean
from typing import Literal

from pydantic import BaseModel

Weights = Literal["none", "linear", "quadratic"]


class Confusion(BaseModel):
    labels: list[str]
    matrix: list[list[int]]
    """matrix[i][j]: items the first rater put in labels[i] and the second in labels[j]."""


def _labels(a: Sequence[Hashable], b: Sequence[Hashable], categories: Sequence[Hashable] | None) -> list[Hashable]:
    seen = list(categories) if categories is not None else []
    for x in list(a) + list(b):
        if x not in seen:
            seen.append(x)
    try:
        return sorted(seen)  # type: ignore[type-var]
    except TypeError:
        return seen


def confusion(a: Sequence[Hashable], b: Sequence[Hashable], categories: Sequence[Hashable] | None = None) -> Confusion:
    labels = _labels(a, b, categories)
    index = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for x, y in zip(a, b, strict=True):
        m[index[x]][index[y]] += 1
    return Confusion(labels=[str(x) for x in labels], matrix=m)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], weights: Weights = "none",
                categories: Sequence[Hashable] | None = None) -> float | None:
    """kappa = 1 - sum(w * observed) / sum(w * expected-by-chance), with w = 0 on agreement.

    Weighted forms need numeric labels; the weight of a disagreement is |i - j| (linear) or
    (i - j)^2 (quadratic), scaled by the label range, which cancels out of the ratio."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    labels = _labels(a, b, categories)
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b):
        observed[index[x]][index[y]] += 1 / n
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    if weights == "none":
        w = lambda i, j: 0.0 if i == j else 1.0
    else:
        values = [float(x) for x in labels]  # type: ignore[arg-type]
        span = (max(values) - min(values)) or 1.0
        power = 1 if weights == "linear" else 2
        w = lambda i, j: (abs(values[i] - values[j]) / span) ** power
    disagree_obs = sum(w(i, j) * observed[i][j] for i in range(k) for j in range(k))
    disagree_exp = sum(w(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k))
    if disagree_exp == 0:
        return None
    return 1 - disagree_obs / disagree_exp


def lin_ccc(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Lin (1989): 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), population moments.

    1 means identical scores; it drops with both poor correlation and systematic bias."""
    if len(x) != len(y):
        raise ValueError("both raters must score the same items")
    if len(x) < 2:
        return None
    mx, my = fmean(x), fmean(y)
    sxx = fmean([(v - mx) ** 2 for v in x])
    syy = fmean([(v - my) ** 2 for v in y])
    sxy = fmean([(u - mx) * (v - my) for u, v in zip(x, y)])
    denom = sxx + syy + (mx - my) ** 2
    return None if denom == 0 else 2 * sxy / denom


def exact_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    return sum(x == y for x, y in zip(a, b)) / len(a) if a else None


def within_one(a: Sequence[float], b: Sequence[float]) -> float | None:
    return sum(abs(x - y) <= 1 for x, y in zip(a, b)) / len(a) if a else None


def threshold_accuracy(a: Sequence[float], b: Sequence[float], threshold: float) -> float | None:
    """Share of items on which both raters fall on the same side of `threshold` (pass = >=)."""
    return sum((x >= threshold) == (y >= threshold) for x, y in zip(a, b)) / len(a) if a else None
