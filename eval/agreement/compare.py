"""Agreement between every pair of raters that matter: the grader against each human,
and each pair of humans (the ceiling a grader can be expected to reach)."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from statistics import fmean
from typing import Any

from pydantic import BaseModel

from .fields import DEFAULT_THRESHOLDS, FIELDS, FieldSpec
from .ratings import GRADER, Rating
from .stats import Confusion, cohen_kappa, confusion, exact_agreement, lin_ccc, threshold_accuracy, within_one


class PairAgreement(BaseModel):
    a: str
    b: str
    n: int
    exact: float | None
    within_one: float | None = None
    kappa: float | None
    weighting: str
    ccc: float | None = None
    threshold: float | None = None
    threshold_accuracy: float | None = None
    threshold_kappa: float | None = None
    confusion: Confusion


class FieldAgreement(BaseModel):
    field: str
    kind: str
    grader_vs_humans: list[PairAgreement]
    human_pairs: list[PairAgreement]
    grader_mean: dict[str, float | None]
    human_mean: dict[str, float | None]
    """Mean of the pairwise human figures: the inter-rater ceiling (empty with one rater)."""


class AgreementReport(BaseModel):
    source: str
    layout: str
    grader_version: str
    items: int
    raters: list[str]
    fields: list[FieldAgreement]


def pair_agreement(spec: FieldSpec, a_name: str, a: dict[str, Any], b_name: str, b: dict[str, Any],
                   threshold: float | None) -> PairAgreement:
    """`a`, `b`: item -> label. Items either rater left blank are left out."""
    keys = [k for k in a if k in b and a[k] is not None and b[k] is not None]
    xs, ys = [a[k] for k in keys], [b[k] for k in keys]
    ordinal = spec.kind == "ordinal"
    out = PairAgreement(
        a=a_name, b=b_name, n=len(keys), exact=exact_agreement(xs, ys),
        kappa=cohen_kappa(xs, ys, "quadratic" if ordinal else "none", spec.categories if ordinal else None),
        weighting="quadratic" if ordinal else "none", confusion=confusion(xs, ys, spec.categories),
    )
    if ordinal:
        out.within_one = within_one(xs, ys)
        out.ccc = lin_ccc([float(x) for x in xs], [float(y) for y in ys])
    if threshold is not None and spec.kind != "nominal":
        out.threshold = threshold
        out.threshold_accuracy = threshold_accuracy(xs, ys, threshold)
        out.threshold_kappa = cohen_kappa([x >= threshold for x in xs], [y >= threshold for y in ys])
    return out


def _mean(pairs: list[PairAgreement]) -> dict[str, float | None]:
    def m(attr: str) -> float | None:
        vals = [getattr(p, attr) for p in pairs if getattr(p, attr) is not None]
        return round(fmean(vals), 4) if vals else None
    return {k: m(k) for k in ("kappa", "exact", "within_one", "ccc", "threshold_accuracy")} if pairs else {}


def compare(ratings: list[Rating], fields: list[str], thresholds: dict[str, float] | None = None,
            *, source: str = "", layout: str = "", grader_version: str = "") -> AgreementReport:
    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    by_rater: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
    for r in ratings:
        for f, v in r.labels.items():
            by_rater[r.rater][f][r.item] = v
    humans = sorted(k for k in by_rater if k != GRADER)
    out = []
    for f in fields:
        spec, cut = FIELDS[f], thresholds.get(f)
        vs = [pair_agreement(spec, GRADER, by_rater[GRADER][f], h, by_rater[h][f], cut) for h in humans
              if GRADER in by_rater]
        hp = [pair_agreement(spec, a, by_rater[a][f], b, by_rater[b][f], cut) for a, b in combinations(humans, 2)]
        out.append(FieldAgreement(field=f, kind=spec.kind, grader_vs_humans=vs, human_pairs=hp,
                                  grader_mean=_mean(vs), human_mean=_mean(hp)))
    items = {r.item for r in ratings if r.rater != GRADER}
    return AgreementReport(source=source, layout=layout, grader_version=grader_version, items=len(items),
                           raters=humans, fields=out)
