"""Readers for the grader's training and validation data, as typed rows.

The seed set ships with the package. The shared human-labelled sets (EPITOME dev, AnnoMI,
aci-bench) are never copied into the repository: callers pass their folder, or it comes from
BEDSIDE_SHARED_DATA, default <repo>/../shared/data; a reader returns None when it is absent.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..config import REPO_ROOT
from .base import Epitome, GradeContext

SEED_FILE = Path(__file__).resolve().parent / "data" / "seed_labels.jsonl"
MECHANISMS = ("emotional_reactions", "interpretations", "explorations")
EPITOME_FILES = {"emotional_reactions": "emotional-reactions-reddit.csv", "interpretations": "interpretations-reddit.csv",
                 "explorations": "explorations-reddit.csv"}


class SeedRow(BaseModel):
    id: str
    context: str
    opportunity: Literal["explicit", "cue", "none"]
    emotion: str
    response: str
    eccs: int | None
    nurse: list[str]
    flags: list[str]
    epitome: Epitome
    space: str
    question_type: str
    named_emotion: str | None
    empathic_accuracy: bool | None
    split: Literal["train", "test"]

    def context_for_grading(self) -> GradeContext:
        """The GradeContext an engine would have built for this row."""
        opp = self.opportunity != "none"
        return GradeContext(patient_turn=self.context, patient_emotion=self.emotion,
                            opportunity_id=self.id if opp else None, opportunity_kind=self.opportunity if opp else None)


class EpitomePair(BaseModel):
    sp_id: str
    rp_id: str
    seeker_post: str
    response_post: str
    levels: dict[str, int]
    rationales: dict[str, str]


def shared_dir(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("BEDSIDE_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def load_seed(split: str | None = None, path: Path = SEED_FILE) -> list[SeedRow]:
    rows = [SeedRow.model_validate(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r.split == split]


def load_epitome(shared: Path) -> list[EpitomePair] | None:
    """The three mechanism files joined on (seeker post, response) ids; None when absent."""
    folder = shared / "epitome-dev"
    if not all((folder / f).exists() for f in EPITOME_FILES.values()):
        return None
    tables = {}
    for mech, name in EPITOME_FILES.items():
        with open(folder / name, newline="", encoding="utf-8") as fh:
            tables[mech] = list(csv.DictReader(fh))
    first = tables[MECHANISMS[0]]
    # the three files list the same pairs in the same order (a few pairs occur twice, so join by position)
    for rows in tables.values():
        if [(r["sp_id"], r["rp_id"]) for r in rows] != [(r["sp_id"], r["rp_id"]) for r in first]:
            raise ValueError(f"{folder}: mechanism files do not list the same pairs")
    pairs = [{"sp_id": r["sp_id"], "rp_id": r["rp_id"], "seeker_post": r["seeker_post"], "response_post": r["response_post"],
              "levels": {m: int(tables[m][i]["level"]) for m in MECHANISMS},
              "rationales": {m: tables[m][i].get("rationales") or "" for m in MECHANISMS}} for i, r in enumerate(first)]
    return [EpitomePair.model_validate(p) for p in pairs]


REAL_DIR = Path(__file__).resolve().parent / "data" / "real"


class RealLabel(BaseModel):
    """One doctor turn of a real dialogue, labelled by the project (data/real/README.md)."""

    id: str
    split: Literal["train", "test"]
    usable: bool = True
    opportunity: Literal["explicit", "cue", "none"]
    emotion: str | None
    eccs: int | None
    nurse: list[str]
    flags: list[str]
    space: Literal["provides", "reduces", "neutral"]
    rater: str = "A"


def load_real_labels(split: str | None = None, name: str = "labels.jsonl", folder: Path = REAL_DIR) -> list[RealLabel]:
    """The usable real-dialogue labels of one split (all splits when None); [] when the file is absent."""
    path = folder / name
    if not path.exists():
        return []
    rows = [RealLabel.model_validate(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.usable and (split is None or r.split == split)]


def real_rows(labels: list[RealLabel], shared: Path) -> list[SeedRow]:
    """The labels as SeedRow-shaped rows with the words read from the shared data (never shipped).
    EPITOME and the question type are not labelled on real turns: their fields hold zeros and
    'none', and training skips those heads for rows whose id starts with 'aci/' or 'mts/'."""
    from .dialogues import pairs_by_id
    pairs = pairs_by_id(str(shared), [r.id for r in labels])
    out = []
    for r in labels:
        p = pairs[r.id]
        out.append(SeedRow(id=r.id, context=p.patient, opportunity=r.opportunity, emotion=r.emotion or "calm",
                           response=p.reply, eccs=r.eccs, nurse=r.nurse, flags=r.flags, epitome=Epitome(), space=r.space,
                           question_type="none", named_emotion=None, empathic_accuracy=None, split=r.split))
    return out
