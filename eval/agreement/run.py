"""`bedside eval agreement`: the grader against human ratings, and raters against each other."""

from __future__ import annotations

import json
from pathlib import Path

from server.grading.base import Grade, Grader

from ..load.readonly import open_readonly
from ..packs import Packs
from ..regrade.context import regrade_session
from .compare import AgreementReport, compare
from .ratings import RatingSet, grade_pairs, grader_ratings, read_ratings


def stored_grades(rs: RatingSet, database_url: str, *, regrade_with: Grader | None = None,
                  packs: Packs | None = None) -> dict[str, Grade]:
    """Grades of the rated turns: as stored, or re-graded with `regrade_with`."""
    wanted: dict[str, set[int]] = {}
    for item in rs.items.values():
        wanted.setdefault(item["session_id"], set()).add(item["turn"])
    helper = packs.helper_engine(regrade_with) if regrade_with and packs else None
    out: dict[str, Grade] = {}
    store = open_readonly(database_url)
    try:
        for sid, turn_ids in wanted.items():
            rec = store.get_session(sid)
            if rec is None:
                continue
            turns = store.turns(sid)
            grades = regrade_session(helper, packs.get(rec.persona_id), rec, turns) if helper else [t.grade for t in turns]
            out.update({f"{sid}#{t.turn_index}": g for t, g in zip(turns, grades) if t.turn_index in turn_ids})
    finally:
        store.close()
    return out


def run_agreement(path: Path, grader: Grader, *, database_url: str | None = None, packs: Packs | None = None,
                  current_grader: bool = False, thresholds: dict[str, float] | None = None) -> AgreementReport:
    rs = read_ratings(path)
    if rs.layout == "pairs":
        grades, version = grade_pairs(rs, grader), grader.version
    else:
        if not database_url:
            raise ValueError("turn-keyed ratings need the session store (--data-dir or --database-url)")
        grades = stored_grades(rs, database_url, regrade_with=grader if current_grader else None, packs=packs)
        version = grader.version if current_grader else ", ".join(sorted({g.grader_version for g in grades.values()}))
    ratings = rs.ratings + grader_ratings(rs, grades)
    return compare(ratings, rs.fields, thresholds, source=str(path), layout=rs.layout, grader_version=version)


def write_agreement(report: AgreementReport, out_dir: Path) -> dict[str, Path]:
    from .report import agreement_page

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "agreement.json", "html": out_dir / "agreement.html"}
    paths["json"].write_text(json.dumps(report.model_dump(mode="json"), indent=1), encoding="utf-8")
    paths["html"].write_text(agreement_page(report), encoding="utf-8")
    return paths


def text_summary(report: AgreementReport) -> str:
    """One line per field for the terminal."""
    lines = [f"{report.items} items, raters: {', '.join(report.raters)}; grader {report.grader_version}",
             f"{'field':32} {'grader kappa':>12} {'exact':>7} {'CCC':>6} {'human kappa':>12}"]
    f = lambda v: "–" if v is None else f"{v:.3f}"
    for fa in report.fields:
        g, h = fa.grader_mean, fa.human_mean
        lines.append(f"{fa.field:32} {f(g.get('kappa')):>12} {f(g.get('exact')):>7} {f(g.get('ccc')):>6} "
                     f"{f(h.get('kappa')) if h else '(1 rater)':>12}")
    return "\n".join(lines)
