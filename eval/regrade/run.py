"""`bedside eval regrade`: the current grader over stored sessions, originals untouched.

The store is opened read-only (for SQLite, SQLite itself refuses writes), and every result
goes to the output directory: the new grades per turn (JSONL), and the diff (JSON + HTML).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from server.grading.base import Grade, Grader

from ..load.filters import EvalFilter
from ..load.readonly import open_readonly
from ..load.store import matching_records
from ..packs import Packs
from ..pipeline import bar
from .context import regrade_session
from .diff import RegradeSummary, SessionDiff, TurnDiff, session_diff, summary, turn_diff


class RegradeResult(BaseModel):
    summary: RegradeSummary
    sessions: list[SessionDiff]
    turns: list[TurnDiff]
    """Only the turns whose grade changed."""


class RegradedTurn(BaseModel):
    session_id: str
    turn: int
    learner_text: str
    old: Grade
    new: Grade


def regrade_store(database_url: str, grader: Grader, packs: Packs, flt: EvalFilter | None = None,
                  *, progress: bool | None = None) -> tuple[RegradeResult, list[RegradedTurn]]:
    helper = packs.helper_engine(grader)
    store = open_readonly(database_url)
    sessions, changed, every, regraded = [], [], [], []
    old_versions: set[str] = set()
    try:
        records = matching_records(store, flt or EvalFilter())
        for rec in bar(records, len(records), "re-grading", progress):
            turns = store.turns(rec.id)
            new = regrade_session(helper, packs.get(rec.persona_id), rec, turns)
            diffs = [turn_diff(rec.id, t.turn_index, t.learner_text, t.grade, g) for t, g in zip(turns, new)]
            sessions.append(session_diff(rec.id, rec.learner_id, rec.persona_id, [t.grade for t in turns], new, diffs))
            changed += [d for d in diffs if d.changed]
            every += diffs
            old_versions.update(t.grader_version for t in turns)
            regraded += [RegradedTurn(session_id=rec.id, turn=t.turn_index, learner_text=t.learner_text, old=t.grade, new=g)
                         for t, g in zip(turns, new)]
    finally:
        store.close()
    result = RegradeResult(summary=summary(sorted(old_versions), grader.version, sessions, every),
                           sessions=sessions, turns=changed)
    return result, regraded


def write_regrade(result: RegradeResult, regraded: list[RegradedTurn], out_dir: Path, source: str = "") -> dict[str, Path]:
    from .report import regrade_page

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "regrade.json", "html": out_dir / "regrade.html", "grades": out_dir / "regraded.jsonl"}
    payload: dict[str, Any] = {"source": source, **result.model_dump(mode="json")}
    paths["json"].write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(regrade_page(result, source), encoding="utf-8")
    with open(paths["grades"], "w", encoding="utf-8") as fh:
        for r in regraded:
            fh.write(r.model_dump_json() + "\n")
    return paths
