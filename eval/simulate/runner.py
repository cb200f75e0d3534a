"""Play scripted learners through the real engine and store the sessions like real ones
(create_session, append_turn, end_session with the engine's summary)."""

from __future__ import annotations

import random
import secrets
import sys

from pydantic import BaseModel, Field
from tqdm import tqdm

from server.engine.patient import Engine
from server.engine.summary import summarise
from server.core.types import TurnResult
from server.store.base import SessionStore
from server.store.records import SessionFilter

from .learner import ScriptedLearner
from .scripts import Style


class SimulationRequest(BaseModel):
    persona_id: str
    style: Style
    sessions: int = Field(1, ge=1)
    learner_id: str | None = Field(None, description="Default: sim-<style>.")
    seed: int = 0
    min_turns: int = Field(16, ge=2)
    max_turns: int = Field(22, ge=2)

    @property
    def learner(self) -> str:
        return self.learner_id or f"sim-{self.style}"


def _session_rng(req: SimulationRequest, number: int) -> random.Random:
    """One RNG per session: the same request against the same store replays exactly, and a
    repeated request continues with new sessions instead of copies."""
    return random.Random(f"{req.seed}|{req.persona_id}|{req.style}|{req.learner}|{number}")


def play_session(engine: Engine, store: SessionStore, req: SimulationRequest, number: int) -> str:
    rng = _session_rng(req, number)
    turns = rng.randint(req.min_turns, max(req.min_turns, req.max_turns))
    learner = ScriptedLearner(req.style, rng, turns)
    pack = engine.pack(req.persona_id)
    state, opening = engine.start(pack.id)
    record = store.create_session(learner_id=req.learner, persona_id=pack.id, mode="text",
                                  token=secrets.token_urlsafe(16), opening=opening, initial_state=state)
    results: list[TurnResult] = []
    for turn in range(1, turns + 1):
        cue = pack.opportunity(state.pending_opportunity).emotion.value if state.pending_opportunity else None
        result, state = engine.respond(state, learner.line(turn, cue))
        store.append_turn(record.id, result, state, extra={
            "plan": result.plan.model_dump(mode="json"), "barged_in": False,
            "simulated": {"style": req.style, "seed": req.seed, "number": number},
        })
        results.append(result)
    store.end_session(record.id, summarise(pack, state, results, opening).model_dump(mode="json"), state)
    return record.id


def simulate(engine: Engine, store: SessionStore, req: SimulationRequest, *, progress: bool | None = None) -> list[str]:
    """Store `req.sessions` new sessions; returns their ids."""
    engine.pack(req.persona_id)  # unknown persona: fail before writing anything
    done = len(store.list_sessions(SessionFilter(learner_id=req.learner, persona_id=req.persona_id)))
    bar = tqdm(range(req.sessions), desc=f"simulating {req.style}", unit="session", file=sys.stderr,
               disable=None if progress is None else not progress, leave=False)
    return [play_session(engine, store, req, done + k) for k in bar]
