"""Reading human ratings, and pairing them with the grader's labels for the same items.

Two layouts are accepted (CSV, or JSONL with the same keys):
- turn-keyed: `session_id`, `turn_id` and rating columns; the grader's side is the stored
  grade of that turn (or a fresh re-grade);
- pairs: `context` (the patient's words), `response` (the learner's), optional `emotion`
  and `opportunity` (explicit / cue / none, or 1/0), and rating columns; the grader's side
  is the current grader run on each pair. The grading seed set has this shape.
An optional `rater` column holds rater ids; without it every row is rater `human`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from server.grading.base import ALL_FLAGS, ALL_NURSE, Grade, GradeContext, Grader

from .fields import ALIASES, FIELDS

Layout = Literal["turns", "pairs"]
GRADER = "grader"


class Rating(BaseModel):
    item: str
    rater: str
    labels: dict[str, Any]


class RatingSet(BaseModel):
    layout: Layout
    fields: list[str]
    ratings: list[Rating]
    items: dict[str, dict[str, Any]]
    """item key -> what identifies it (session/turn, or context/response/emotion/opportunity)."""

    @property
    def raters(self) -> list[str]:
        return sorted({r.rater for r in self.ratings})


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            return [_flatten(json.loads(line)) for line in fh if line.strip()]
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    """Seed-set style nested labels (nurse list, flags list, epitome object) to columns."""
    out = {k: v for k, v in row.items() if k not in ("nurse", "flags", "epitome")}
    if isinstance(row.get("nurse"), list):
        out.update({f"nurse_{n}": int(n in row["nurse"]) for n in ALL_NURSE})
    if isinstance(row.get("flags"), list):
        out.update({f"flag_{f}": int(f in row["flags"]) for f in ALL_FLAGS})
    if isinstance(row.get("epitome"), dict):
        out.update({f"epitome_{k}": v for k, v in row["epitome"].items()})
    return {k: ("" if v is None else str(v)) for k, v in out.items()}


def read_ratings(path: Path) -> RatingSet:
    rows = _rows(Path(path))
    if not rows:
        raise ValueError(f"{path}: no ratings")
    cols = {ALIASES.get(c, c) for c in rows[0]}
    if {"session_id", "turn_id"} <= cols:
        layout: Layout = "turns"
    elif {"context", "response"} <= cols:
        layout = "pairs"
    else:
        raise ValueError(f"{path}: need session_id and turn_id columns, or context and response columns")
    fields = [f for f in FIELDS if f in cols]
    if not fields:
        raise ValueError(f"{path}: no rating columns; expected any of {', '.join(FIELDS)}")
    ratings, items = [], {}
    for n, row in enumerate(rows, 2):
        row = {ALIASES.get(k, k): v for k, v in row.items()}
        if layout == "turns":
            key = f"{row['session_id']}#{int(row['turn_id'])}"
            items[key] = {"session_id": row["session_id"], "turn": int(row["turn_id"])}
        else:
            key = row.get("id") or f"{row['context']}\u241f{row['response']}"
            items[key] = {k: row.get(k, "") for k in ("context", "response", "emotion", "opportunity")}
        try:
            labels = {f: FIELDS[f].parse(row.get(f, "")) for f in fields}
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from None
        ratings.append(Rating(item=key, rater=(row.get("rater") or "human").strip() or "human", labels=labels))
    return RatingSet(layout=layout, fields=fields, ratings=ratings, items=items)


def _has_opportunity(value: str) -> tuple[bool, Literal["explicit", "cue"] | None]:
    v = (value or "").strip().lower()
    if v in ("explicit", "cue"):
        return True, v  # type: ignore[return-value]
    return v in ("1", "true", "yes"), ("cue" if v in ("1", "true", "yes") else None)


def pair_context(item: dict[str, Any]) -> GradeContext:
    has, kind = _has_opportunity(item.get("opportunity", ""))
    emotion = (item.get("emotion") or "").strip() or None
    return GradeContext(patient_turn=item.get("context", ""), patient_emotion=emotion,
                        opportunity_id="rated-opportunity" if has else None, opportunity_kind=kind)


def grade_pairs(rs: RatingSet, grader: Grader) -> dict[str, Grade]:
    return {key: grader.grade(item["response"], pair_context(item)) for key, item in rs.items.items()}


def grader_ratings(rs: RatingSet, grades: dict[str, Grade]) -> list[Rating]:
    """The grader as one more rater, on the items that have a grade."""
    return [Rating(item=k, rater=GRADER, labels={f: FIELDS[f].read(g) for f in rs.fields}) for k, g in grades.items()]
