"""`bedside grade`: grade a file of (patient turn, reply) pairs, or retrain the grader.

    bedside grade --in pairs.jsonl --out graded.jsonl [--grader trained|rules|judge]
    bedside grade train [--seed 0] [--shared PATH] [--out DIR] [--seed-only]

Input rows are {"context": patient turn, "response": learner reply, "emotion": optional
family, "opportunity": optional "explicit"|"cue"|"none"}; every other key is kept. Each row is
written back with the grade's fields added, in input order, one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .base import GradeContext


class PairIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    context: str = ""
    response: str
    emotion: str | None = None
    opportunity: Literal["explicit", "cue", "none"] | None = None
    earlier: str = ""  # what the patient said before `context` in the consultation, optional

    def grade_context(self, n: int) -> GradeContext:
        """An opportunity is assumed when the row does not say: a pair file is usually replies to
        patient turns that offered one. "none" grades without ECCS."""
        kind = self.opportunity or "cue"
        return GradeContext(patient_turn=self.context, patient_emotion=self.emotion,
                            opportunity_id=None if kind == "none" else f"row{n}",
                            opportunity_kind=None if kind == "none" else kind, earlier=self.earlier)


def add_parser(sub) -> None:
    """Wire `grade` into the top-level parser (server/cli.py)."""
    g = sub.add_parser("grade", help="grade (patient turn, reply) pairs from JSONL, or retrain the grader")
    g.add_argument("--in", dest="inp", help="JSONL of {context, response, emotion?} ('-' for stdin)")
    g.add_argument("--out", dest="out", help="JSONL to write (default stdout)")
    g.add_argument("--grader", choices=["rules", "trained", "judge"], help="grader backend (env BEDSIDE_GRADER)")
    gsub = g.add_subparsers(dest="grade_command")
    t = gsub.add_parser("train", help="retrain the trained grader's heads and write the artefact")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--shared", help="shared data folder with epitome-dev (env BEDSIDE_SHARED_DATA)")
    t.add_argument("--out", dest="model_out", help="artefact folder (default: the packaged server/grading/model)")
    t.add_argument("--seed-only", action="store_true", help="ignore shared data; train on the seed set alone")
    t.add_argument("--cache", help="embedding cache folder (default /tmp/bedside-grader-cache)")


def run(args: argparse.Namespace, settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if getattr(args, "grade_command", None) == "train":
        return _train(args)
    if not args.inp:
        print("bedside grade: --in is required (or use `bedside grade train`)", file=sys.stderr)
        return 2
    return _grade_file(args, settings)


def _train(args: argparse.Namespace) -> int:
    from ..extras import MissingExtra, require
    from .artefact import MODEL_DIR

    try:
        require("sklearn", "train", "bedside grade train")
    except MissingExtra as exc:
        print(f"bedside grade train: {exc}", file=sys.stderr)
        return 1
    from .train import DEFAULT_CACHE, train

    out = Path(args.model_out) if args.model_out else MODEL_DIR
    _, meta, version = train(seed=args.seed, shared=Path(args.shared) if args.shared else None, use_shared=not args.seed_only,
                             out=out, cache_dir=Path(args.cache) if args.cache else DEFAULT_CACHE, report=print)
    print(json.dumps({"version": version, "out": str(out), "data": meta.data, "notes": meta.notes}))
    return 0


BATCH = 64  # rows graded together; the trained grader encodes them in padded batches


def _grade_file(args: argparse.Namespace, settings) -> int:
    from .factory import build_grader

    grader = build_grader(settings.with_overrides(grader=args.grader))
    src = sys.stdin if args.inp == "-" else open(args.inp, encoding="utf-8")
    dst = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    n = 0
    batch: list[tuple[int, str, PairIn]] = []
    many = getattr(grader, "grade_many", None)

    def flush() -> None:
        pairs = [(row.response, row.grade_context(i)) for i, _, row in batch]
        grades = many(pairs) if many else [grader.grade(text, ctx) for text, ctx in pairs]
        for (_, line, _), grade in zip(batch, grades):
            dst.write(json.dumps({**json.loads(line), **grade.model_dump(mode="json")}, ensure_ascii=False) + "\n")
        batch.clear()

    try:
        for n, line in enumerate((l for l in src if l.strip()), start=1):
            try:
                row = PairIn.model_validate_json(line)
            except ValueError as exc:
                flush()  # rows before the bad line are written
                print(f"bedside grade: line {n}: {exc}", file=sys.stderr)
                return 1
            batch.append((n, line, row))
            if len(batch) == BATCH:
                flush()
        flush()
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()
    print(f"graded {n} rows with {grader.version}", file=sys.stderr)
    return 0
