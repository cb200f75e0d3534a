"""Sessions from the session store (SQLite or any database URL the server uses)."""

from __future__ import annotations

from collections.abc import Iterator

from server.store.branches import is_rewound
from server.store.records import SessionRecord, TurnRecord
from server.store.sql import SqlSessionStore

from ..records import EvalSession, EvalTurn
from .filters import EvalFilter


def turn_from_record(r: TurnRecord) -> EvalTurn:
    voice = r.extra.get("voice") or {}
    plan = r.extra.get("plan") or {}
    return EvalTurn(
        turn=r.turn_index, learner_text=r.learner_text, act=r.act, grade=r.grade, grader_version=r.grader_version,
        state_before=r.state_before, state_after=r.state_after, disclosed=r.disclosed, reply=r.reply,
        created_at=r.created_at, interrupted=r.interrupted,
        barged_in=bool(r.extra.get("barged_in", "interrupted" in r.grade.flags)),
        opportunity=plan.get("opportunity"), learner_audio_s=voice.get("audio_duration_s"),
        patient_audio_s=voice.get("patient_audio_s", r.extra.get("patient_audio_s")), timings_ms=r.timings_ms,
        lived=not is_rewound(r),
    )


def session_from_record(s: SessionRecord, turns: list[EvalTurn]) -> EvalSession:
    return EvalSession(
        id=s.id, learner_id=s.learner_id, persona_id=s.persona_id, mode=s.mode, status=s.status,
        started_at=s.created_at, ended_at=s.ended_at, opening=s.opening, summary=s.summary,
        interruptions=s.interruptions, schema_version=s.schema_version, turns=turns,
    )


def matching_records(store: SqlSessionStore, flt: EvalFilter) -> list[SessionRecord]:
    """Session rows passing the filter, oldest first, without their turns."""
    if flt.session_ids and not (flt.learners or flt.personas or flt.since or flt.until):
        found = (store.get_session(sid) for sid in flt.session_ids)
        rows = sorted((r for r in found if r is not None), key=lambda r: (r.created_at, r.id))
    else:
        rows = store.list_sessions(flt.for_store())
    return [r for r in rows if flt.matches(session_from_record(r, []))]


def iter_store(store: SqlSessionStore, records: list[SessionRecord]) -> Iterator[EvalSession]:
    for rec in records:
        yield session_from_record(rec, [turn_from_record(t) for t in store.turns(rec.id)])
