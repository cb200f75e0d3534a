"""Agreement between the two independent labelling passes over real-dialogue items.

    python -m eval.labelling.agreement

Reports, on the items both raters found usable: agreement on whether the patient's turn held an
opportunity (Cohen's kappa), and on the items both coded as an opportunity, ECCS quadratic
weighted kappa and exact agreement, plus flag and NURSE agreement.
"""

from __future__ import annotations

import sys

import numpy as np

from eval.agreement.stats import cohen_kappa
from server.grading.data_sources import REAL_DIR, RealLabel


def agreement(first: list[RealLabel], second: list[RealLabel]) -> dict:
    a = {r.id: r for r in first}
    both = [(a[r.id], r) for r in second if r.id in a]
    usable = [(x, y) for x, y in both if x.usable and y.usable]
    opp = [(x, y) for x, y in usable if x.eccs is not None and y.eccs is not None]
    ea, eb = np.array([x.eccs for x, _ in opp]), np.array([y.eccs for _, y in opp])
    flags = [(set(x.flags), set(y.flags)) for x, y in opp]
    return {
        "items": len(both), "usable_both": len(usable),
        "opportunity_kappa": cohen_kappa([x.eccs is not None for x, _ in usable], [y.eccs is not None for _, y in usable]),
        "opportunity_exact": float(np.mean([(x.eccs is not None) == (y.eccs is not None) for x, y in usable])) if usable else 0.0,
        "opportunities_both": len(opp),
        "eccs_qwk": cohen_kappa(ea.tolist(), eb.tolist(), "quadratic", list(range(7))) if len(opp) else 0.0,
        "eccs_exact": float(np.mean(ea == eb)) if len(opp) else 0.0,
        "eccs_within_1": float(np.mean(np.abs(ea - eb) <= 1)) if len(opp) else 0.0,
        "flags_exact": float(np.mean([p == q for p, q in flags])) if flags else 0.0,
    }


def main() -> int:
    read = lambda name: [RealLabel.model_validate_json(line) for line in (REAL_DIR / name).read_text(encoding="utf-8").splitlines()
                         if line.strip()]
    for k, v in agreement(read("labels.jsonl"), read("second_pass.jsonl")).items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
