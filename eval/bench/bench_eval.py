"""How long evaluating a large cohort takes, without re-grading.

Builds 1,000 stored sessions of 20 turns in a temporary database: a few sessions are
played through the real engine by simulated learners (every style, every persona), then
copied in bulk with varied learners, dates and grades (eval/simulate/clone.py). Then it
times the full cohort evaluation exactly as `bedside eval` runs it: loading from the store
(read-only), per-session metrics, the cohort report (its charts, not 1,000 session
pages) and the CSV export. Target: under 60 s on the project machine.

    .venv/bin/python eval/bench/bench_eval.py [--sessions 1000] [--turns 20] [--report-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from server.config import Settings
from server.engine.factory import build_engine
from server.store.sql import open_store

from eval.export.csv_tables import write_tables
from eval.load import Source, load_sessions
from eval.packs import Packs
from eval.pipeline import evaluate, write_cohort_page
from eval.simulate.clone import CloneSpec, clone_sessions
from eval.simulate.runner import SimulationRequest, simulate
from eval.simulate.scripts import STYLES

TARGET_S = 60.0


def build_cohort(settings: Settings, sessions: int, turns: int) -> float:
    t0 = time.perf_counter()
    engine = build_engine(settings)
    store = open_store(settings.resolved_database_url())
    try:
        seeded = 0
        for persona in sorted(engine.registry.packs):
            for style in STYLES:
                seeded += len(simulate(engine, store, SimulationRequest(persona_id=persona, style=style, sessions=1),
                                       progress=False))
        clone_sessions(store, CloneSpec(sessions=max(1, sessions - seeded), turns=turns))
    finally:
        store.close()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--report-only", dest="enforce", action="store_false", help=f"do not fail on a missed target (by default, exit 1 if the evaluation takes {TARGET_S:.0f} s or more)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bedside-bench-eval-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        built = build_cohort(settings, args.sessions, args.turns)
        out = Path(tmp) / "report"
        clock = time.perf_counter
        t0 = clock()
        sessions = load_sessions(Source(database_url=settings.resolved_database_url()), progress=False)
        t1 = clock()
        ms = evaluate(sessions, Packs(settings.persona_dir), progress=False)
        t2 = clock()
        write_cohort_page(ms, out / "cohort.html", source="bench")
        t3 = clock()
        write_tables(ms, out)
        t4 = clock()
        turns = sum(m.turns for m in ms)
        total = t4 - t0
        print(f"cohort built in {built:.1f} s (simulated through the engine, then copied): "
              f"{len(ms)} sessions, {turns} turns")
        print(f"load (read-only store)   {t1 - t0:6.2f} s")
        print(f"per-session metrics      {t2 - t1:6.2f} s")
        print(f"cohort report (HTML+SVG) {t3 - t2:6.2f} s  ({(out / 'cohort.html').stat().st_size / 1e6:.1f} MB)")
        print(f"CSV export               {t4 - t3:6.2f} s  (turns.csv {(out / 'turns.csv').stat().st_size / 1e6:.1f} MB)")
        print(f"total evaluation         {total:6.2f} s  for {len(ms)} sessions, {turns} turns "
              f"(target < {TARGET_S:.0f} s: {'PASS' if total < TARGET_S else 'FAIL'})")
    return 1 if args.enforce and total >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
