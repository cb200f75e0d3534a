"""Stored sessions with grades chosen by the test, for the educator page's tests.

The turns are written through the store's own API with hand-made grades (no model runs), so
every score the page shows is known in advance; the session is ended with the engine's own
`summarise`, as the server ends one. Times are moved back afterwards with plain SQL: that is
how a session comes to be idle for hours in a test that runs for seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from server.core.grade import Grade
from server.core.types import ContentPlan, DialogueAct, EmotionalState, SessionState, TurnResult
from server.engine.summary import summarise
from server.persona.schema import PersonaPack
from server.store.sql import SqlSessionStore
from server.store.tables import SessionRow, TurnRow


def seed_session(store: SqlSessionStore, pack: PersonaPack, learner: str, eccs: list[int | None], *,
                 concerns: int = 0, end: bool = True, idle: timedelta = timedelta(0),
                 started_ago: timedelta | None = None) -> str:
    """A session of `pack` with one turn per `eccs` entry (None: a turn that answered no
    opportunity), revealing the pack's first `concerns` hidden concerns on its last turn.
    Its turns are stored `idle` ago and it started `started_ago` ago (default: `idle` plus a
    minute). Returns the session id."""
    b = pack.emotion.baseline
    feeling = EmotionalState(trust=b.trust, distress=b.distress, emotion=pack.emotion.primary.value)
    state = SessionState(persona_id=pack.id, emotional=feeling)
    session = store.create_session(learner_id=learner, persona_id=pack.id, mode="text", token=f"tok-{learner}",
                                   opening=pack.visit.opening_line,
                                   initial_state=state)
    revealed = [c.id for c in pack.hidden_concerns[:concerns]]
    results = []
    for i, level in enumerate(eccs, 1):
        last = i == len(eccs)
        state = state.model_copy(update={"turn_index": i, "revealed_concerns": revealed if last else []})
        result = TurnResult(
            turn_index=i, learner_text=f"Learner turn {i} of {learner}.", act=DialogueAct.other,
            grade=Grade(grader_version="seeded", eccs=level, question_type="open"),
            state_before=feeling, state_after=feeling, plan=ContentPlan(style="neutral", emotion=feeling.emotion),
            disclosed=revealed if last else [], reply=f"Patient reply {i}.")
        store.append_turn(session.id, result, state)
        results.append(result)
    if end:
        store.end_session(session.id, summarise(pack, state, results).model_dump(mode="json"), state)
    now = datetime.now(UTC)
    started = now - (started_ago if started_ago is not None else idle + timedelta(minutes=1))
    with store.engine.begin() as db:
        db.execute(update(SessionRow).where(SessionRow.id == session.id)
                   .values(created_at=started, ended_at=now - idle if end else None))
        db.execute(update(TurnRow).where(TurnRow.session_id == session.id).values(created_at=now - idle))
    return session.id
