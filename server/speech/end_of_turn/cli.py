"""`bedside turn train --shared PATH [--out DIR] [--cache DIR]`: rebuild the end-of-turn text model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    """Wire `turn` into the top-level parser (server/cli.py)."""
    t = sub.add_parser("turn", help="end-of-turn detection: retrain the text model")
    tsub = t.add_subparsers(dest="turn_command", required=True)
    tr = tsub.add_parser("train", help="rebuild the text model's artefact from the shared dialogues")
    tr.add_argument("--shared", required=True, help="shared data folder with aci-bench, mts-dialog and annomi")
    tr.add_argument("--out", help="artefact folder (default: the packaged server/speech/end_of_turn/data)")
    tr.add_argument("--cache", help="embedding cache folder (default /tmp/bedside-eot-cache)")
    tr.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from .artefact import DATA_DIR

    shared = Path(args.shared)
    missing = [d for d in ("aci-bench/data/challenge_data", "mts-dialog/Main-Dataset", "annomi/AnnoMI-simple.csv")
               if not (shared / d).exists()]
    if missing:
        print(f"bedside turn train: {shared} has no {', '.join(missing)} (pass the shared data folder with --shared)",
              file=sys.stderr)
        return 2
    from .train import DEFAULT_CACHE, train

    out = Path(args.out) if args.out else DATA_DIR
    version, meta = train(shared, out=out, seed=args.seed, cache_dir=Path(args.cache) if args.cache else DEFAULT_CACHE)
    print(json.dumps({"version": version, "out": str(out), "data": meta.data, "figures": meta.figures}))
    return 0
