"""Grow a large synthetic cohort fast: copy a few engine-made sessions many times, written
straight into the store's tables in bulk, with the learner, start time and grades varied.

Playing 1,000 sessions through the engine would take minutes; copying rows takes seconds
and still gives realistic text, plans and states. Each synthetic learner drifts up or
down a little per session, so progress charts have real trends to show. Used by the
benchmark (eval/bench/bench_eval.py); never by anything that evaluates real learners.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.store.sql import SqlSessionStore
from server.store.tables import SessionRow, TurnRow


class CloneSpec(BaseModel):
    sessions: int = Field(1000, ge=1)
    turns: int = Field(20, ge=1, description="Every copy has exactly this many turns (seed turns cycle if short).")
    learners: int = Field(40, ge=1)
    days: int = Field(90, ge=1, description="Start times spread over this many days.")
    seed: int = 0


def _columns(row) -> dict:
    return {c.name: getattr(row, c.key) for c in row.__table__.columns}


def _nudge_grade(grade: dict, shift: int) -> dict:
    g = dict(grade)
    if g.get("eccs") is not None:
        g["eccs"] = max(0, min(6, g["eccs"] + shift))
    return g


def clone_sessions(store: SqlSessionStore, spec: CloneSpec) -> int:
    """Append `spec.sessions` copies of the store's existing ended sessions; returns turns written."""
    rng = random.Random(spec.seed)
    with Session(store.engine) as s:  # bulk rows go below the store's one-turn API on purpose
        seeds = [_columns(r) for r in s.scalars(select(SessionRow).where(SessionRow.status == "ended"))]
        seed_turns = {x["id"]: [_columns(t) for t in s.scalars(select(TurnRow).where(TurnRow.session_id == x["id"])
                                                               .order_by(TurnRow.turn_index))] for x in seeds}
    seeds = [x for x in seeds if seed_turns[x["id"]]]
    if not seeds:
        raise ValueError("no ended sessions to copy; simulate a few first")
    drift = [rng.uniform(-0.03, 0.03) for _ in range(spec.learners)]
    start = datetime.now(UTC) - timedelta(days=spec.days)
    done_per_learner = [0] * spec.learners
    written = 0
    batch_sessions, batch_turns = [], []
    for i in range(spec.sessions):
        src = seeds[i % len(seeds)]
        learner = rng.randrange(spec.learners)
        k = done_per_learner[learner] = done_per_learner[learner] + 1
        shift_base = drift[learner] * k * 10
        sid = str(uuid.uuid4())
        created = start + timedelta(seconds=rng.uniform(0, spec.days * 86400))
        batch_sessions.append({**src, "id": sid, "learner_id": f"learner-{learner + 1:03d}", "created_at": created,
                               "ended_at": created + timedelta(minutes=rng.uniform(8, 25))})
        turns = seed_turns[src["id"]]
        for n in range(1, spec.turns + 1):
            t = copy.copy(turns[(n - 1) % len(turns)])
            shift = round(shift_base + rng.gauss(0, 0.6))
            t.pop("id", None)
            t.update(session_id=sid, turn_index=n, grade=_nudge_grade(t["grade"], shift),
                     created_at=created + timedelta(seconds=30 * n))
            batch_turns.append(t)
        if len(batch_turns) >= 5000 or i == spec.sessions - 1:
            with store.engine.begin() as conn:
                conn.execute(insert(SessionRow.__table__), batch_sessions)
                conn.execute(insert(TurnRow.__table__), batch_turns)
            written += len(batch_turns)
            batch_sessions, batch_turns = [], []
    return written
