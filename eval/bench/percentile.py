"""The one percentile definition every benchmark uses: nearest rank, no interpolation.

p-th percentile = the smallest value with at least p% of the values at or below it. Timings
are reported as the median over runs of each run's figure, with the range over runs.
"""

from __future__ import annotations

import math
import statistics
from typing import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = max(1, math.ceil(q / 100 * len(xs)))
    return float(xs[k - 1])


def median_and_range(runs: Sequence[float]) -> str:
    """'median (min-max)' of per-run figures."""
    return f"{statistics.median(runs):.1f} ({min(runs):.1f}-{max(runs):.1f})"
