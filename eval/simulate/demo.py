"""The demo cohort behind the README screenshot: eight learners, five sessions each (one
per persona), including one who improves over training and one who slips.

    python -m eval.simulate.demo --data-dir /tmp/bedside-demo
    bedside eval cohort --data-dir /tmp/bedside-demo --out /tmp/bedside-demo/cohort.html
"""

from __future__ import annotations

import argparse
import random
import sys

from server.config import get_settings
from server.engine.factory import build_engine
from server.engine.patient import Engine
from server.redact import redact_url
from server.store.base import SessionStore

from .runner import SimulationRequest, simulate

LEARNERS: dict[str, list[str]] = {
    "student-01": ["empathic"] * 5,
    "student-02": ["empathic"] * 5,
    "student-03": ["dismissive"] * 5,
    "student-04": ["dismissive"] * 5,
    "student-05": ["mixed"] * 5,
    "student-06": ["sympathetic"] * 5,
    "student-07": ["dismissive", "sympathetic", "mixed", "empathic", "empathic"],   # grows with training
    "student-08": ["empathic", "empathic", "mixed", "mixed", "dismissive"],         # slips
}


def build_demo(engine: Engine, store: SessionStore, seed: int = 7) -> int:
    """Sessions are stored in rounds (every learner's first session, then their second...),
    so start times interleave as they would in a real course."""
    rng = random.Random(seed)
    personas = sorted(engine.registry.packs)
    orders = {learner: rng.sample(personas, len(personas)) for learner in LEARNERS}
    n = 0
    for round_ in range(5):
        for learner, styles in LEARNERS.items():
            persona = orders[learner][round_ % len(personas)]
            req = SimulationRequest(persona_id=persona, style=styles[round_], learner_id=learner, seed=seed)
            n += len(simulate(engine, store, req, progress=False))
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir")
    ap.add_argument("--database-url")
    ap.add_argument("--persona-dir")
    args = ap.parse_args(argv)
    settings = get_settings(data_dir=args.data_dir, database_url=args.database_url, persona_dir=args.persona_dir)
    from server.store.sql import open_store

    store = open_store(settings.resolved_database_url())
    try:
        n = build_demo(build_engine(settings), store)
    finally:
        store.close()
    print(f"stored {n} demo sessions in {redact_url(settings.resolved_database_url())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
