"""`SqlSessionStore`: the SessionStore on SQLAlchemy 2.0, for SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with synchronous=FULL: every commit is fsynced, so a turn the
server has acknowledged survives the process being killed, and readers (the CLI, an
educator's request) never block the writer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..core.types import SessionState, TurnResult
from ..private_files import create_private
from .base import RewindRefused, SessionEnded, TurnConflict, UnknownSession
from .branches import rewound_extra, rewound_mark
from .records import SCHEMA_VERSION, Lease, Mode, SessionFilter, SessionRecord, TurnRecord
from .learner_keys import SqlLearnerKeys
from .leases import SqlLeases, drop, fence
from .tables import Base, LearnerKeyRow, SessionRow, TurnRow
from .times import now as _now
from .times import utc
from .tokens import hash_token


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An SQLAlchemy engine for `url`, creating the SQLite file's directory if needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            # Transcripts are health data: a new file is 600 (SQLite gives -wal/-shm the same mode).
            create_private(Path(db).expanduser())
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _session_record(row: SessionRow, turn_count: int, last_turn_at: datetime | None = None) -> SessionRecord:
    return SessionRecord(
        id=row.id, learner_id=row.learner_id, persona_id=row.persona_id, mode=row.mode,
        created_at=utc(row.created_at), ended_at=utc(row.ended_at), status=row.status, token_hash=row.token_hash,
        opening=row.opening, initial_state=row.initial_state, final_state=row.final_state, summary=row.summary,
        interruptions=row.interruptions, turn_count=turn_count, last_turn_at=utc(last_turn_at),
        schema_version=row.schema_version,
    )


def _turn_record(row: TurnRow) -> TurnRecord:
    return TurnRecord(
        session_id=row.session_id, turn_index=row.turn_index, learner_text=row.learner_text, act=row.act,
        grade=row.grade, grader_version=row.grader_version, state_before=row.state_before, state_after=row.state_after,
        disclosed=row.disclosed or [], reply=row.reply, realiser=row.realiser, timings_ms=row.timings or {},
        interrupted=row.interrupted, created_at=utc(row.created_at), session_state=row.session_state,
        extra=row.extra or {}, schema_version=row.schema_version,
    )


class SqlSessionStore:
    """One instance per process; safe to call from several threads (one connection each)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.learner_keys = SqlLearnerKeys(self._session)
        self.leases = SqlLeases(self._session)

    # -- sessions ------------------------------------------------------------------------
    def create_session(self, *, learner_id: str, persona_id: str, mode: Mode, token: str,
                       opening: str, initial_state: SessionState) -> SessionRecord:
        row = SessionRow(
            id=str(uuid.uuid4()), learner_id=learner_id, persona_id=persona_id, mode=mode, created_at=_now(),
            status="active", token_hash=hash_token(token), opening=opening,
            initial_state=initial_state.model_dump(mode="json"), interruptions=0, schema_version=SCHEMA_VERSION,
        )
        with self._session.begin() as s:
            s.add(row)
        return _session_record(row, 0)

    def end_session(self, session_id: str, summary: dict[str, Any], final_state: SessionState, *,
                    lease: Lease | None = None) -> SessionRecord:
        with self._session.begin() as s:
            if lease is not None:
                fence(s, lease)
            # an ended session has no driver; the lease row goes first, as in every transaction
            # that locks both (lease row, then session row: no deadlock between them)
            drop(s, [session_id])
            row = s.get(SessionRow, session_id, with_for_update=True)
            if row is None:
                raise UnknownSession(session_id)
            if row.status != "ended":
                row.status = "ended"
                row.ended_at = _now()
                row.summary = summary
                row.final_state = final_state.model_dump(mode="json")
                row.interruptions = final_state.interruptions
            stats = self._turn_stats(s, session_id)
        return _session_record(row, *stats)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._session() as s:
            row = s.get(SessionRow, session_id)
            return _session_record(row, *self._turn_stats(s, session_id)) if row else None

    def list_sessions(self, filters: SessionFilter | None = None) -> list[SessionRecord]:
        f = filters or SessionFilter()
        counts = (select(TurnRow.session_id, func.count(TurnRow.id).label("n"), func.max(TurnRow.created_at).label("last"))
                  .group_by(TurnRow.session_id).subquery())
        q = (select(SessionRow, func.coalesce(counts.c.n, 0), counts.c.last)
             .outerjoin(counts, counts.c.session_id == SessionRow.id)
             .order_by(SessionRow.created_at, SessionRow.id))
        if f.learner_id is not None:
            q = q.where(SessionRow.learner_id == f.learner_id)
        if f.persona_id is not None:
            q = q.where(SessionRow.persona_id == f.persona_id)
        if f.since is not None:
            q = q.where(SessionRow.created_at >= utc(f.since))
        if f.until is not None:
            q = q.where(SessionRow.created_at <= utc(f.until))
        with self._session() as s:
            return [_session_record(row, n, last) for row, n, last in s.execute(q).all()]

    # -- turns ---------------------------------------------------------------------------
    def append_turn(self, session_id: str, result: TurnResult, state: SessionState, *,
                    interrupted: bool = False, extra: dict[str, Any] | None = None, lease: Lease | None = None,
                    last_write: bool = True) -> TurnRecord:
        try:
            with self._session.begin() as s:
                if lease is not None:  # first: nothing below is written for a session taken over
                    fence(s, lease, busy=False if last_write else None)
                existing = self._turn(s, session_id, result.turn_index)
                if existing is not None:
                    return self._same_or_conflict(existing, result)
                session = s.get(SessionRow, session_id)
                if session is None:
                    raise UnknownSession(session_id)
                if session.status == "ended":
                    raise SessionEnded(f"session {session_id} has ended; start a new one")
                row = TurnRow(
                    session_id=session_id, turn_index=result.turn_index, learner_text=result.learner_text,
                    act=result.act.value, grade=result.grade.model_dump(mode="json"),
                    grader_version=result.grade.grader_version,
                    state_before=result.state_before.model_dump(mode="json"),
                    state_after=result.state_after.model_dump(mode="json"), disclosed=list(result.disclosed),
                    reply=result.reply, realiser=result.realiser, timings=dict(result.timings_ms),
                    interrupted=interrupted, created_at=_now(), session_state=state.model_dump(mode="json"),
                    extra=dict(extra or {}), schema_version=SCHEMA_VERSION,
                )
                s.add(row)
            return _turn_record(row)
        except IntegrityError:
            # Another writer committed this index between our check and insert.
            with self._session() as s:
                existing = self._turn(s, session_id, result.turn_index)
            if existing is None:
                raise
            return self._same_or_conflict(existing, result)

    def annotate_turn(self, session_id: str, turn_index: int, extra: dict[str, Any], *,
                      interrupted: bool | None = None) -> TurnRecord:
        with self._session.begin() as s:
            row = self._turn(s, session_id, turn_index)
            if row is None:
                raise UnknownSession(f"{session_id} turn {turn_index}")
            row.extra = {**(row.extra or {}), **extra}  # a new dict, so the JSON column is marked dirty
            if interrupted is not None:
                row.interrupted = interrupted
            if interrupted:
                session = s.get(SessionRow, session_id)
                session.interruptions = (session.interruptions or 0) + 1
        return _turn_record(row)

    def finish_reply(self, session_id: str, turn_index: int, *, reply: str, realiser: str,
                     state: SessionState | None, extra: dict[str, Any], lease: Lease | None = None) -> TurnRecord:
        """Replace a streamed turn's provisional reply with the words actually spoken.

        The turn was committed (grade, state, plan, the template wording) before its first
        sentence was generated, so a crash mid-reply loses nothing; this records what was said.
        A given `lease` must not have been taken over since (it may have been released: the
        socket closed while the reply was spoken), else LeaseLost and nothing is written;
        `state` None keeps the stored state (the words are recorded for a session taken over).
        """
        with self._session.begin() as s:
            if lease is not None:
                fence(s, lease, released_ok=True)
            row = self._turn(s, session_id, turn_index)
            if row is None:
                raise UnknownSession(f"{session_id} turn {turn_index}")
            row.reply = reply
            row.realiser = realiser
            if state is not None:
                row.session_state = state.model_dump(mode="json")
            row.extra = {**(row.extra or {}), **extra}
        return _turn_record(row)

    def turns(self, session_id: str) -> list[TurnRecord]:
        with self._session() as s:
            rows = s.scalars(select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.turn_index))
            return [_turn_record(r) for r in rows]

    def find_client_turn(self, session_id: str, client_turn_id: str) -> TurnRecord | None:
        # Sessions hold tens of turns, so scanning `extra` beats dialect-specific JSON queries.
        with self._session() as s:
            pairs = s.execute(select(TurnRow.turn_index, TurnRow.extra).where(TurnRow.session_id == session_id)).all()
            for index, extra in pairs:
                if (extra or {}).get("client_turn_id") == client_turn_id:
                    return _turn_record(self._turn(s, session_id, index))
        return None

    def latest_state(self, session_id: str) -> SessionState | None:
        with self._session() as s:
            return self._lived_state(s, session_id)

    def rewind_turn(self, session_id: str, turn_index: int, *,
                    lease: Lease | None = None) -> tuple[SessionState, TurnRecord]:
        """Take back the last turn ("Try that again"): mark it rewound (branches.py) and return
        the state to continue from (the state before it) with the marked record. Only the
        newest stored turn, not already taken back, with its reply complete."""
        with self._session.begin() as s:
            if lease is not None:
                fence(s, lease, busy=False)
            session = s.get(SessionRow, session_id, with_for_update=True)
            if session is None:
                raise UnknownSession(session_id)
            if session.status == "ended":
                raise SessionEnded(f"session {session_id} has ended; start a new one")
            last = s.scalar(select(TurnRow).where(TurnRow.session_id == session_id)
                            .order_by(TurnRow.turn_index.desc()).limit(1))
            row = self._turn(s, session_id, turn_index)
            if row is None:
                raise RewindRefused("not_last", f"there is no turn {turn_index} in this session"
                                    + (f"; the last turn is {last.turn_index}" if last is not None else " yet"))
            if rewound_extra(row.extra):
                raise RewindRefused("not_last", f"turn {turn_index} was already taken back; say it another way first")
            if row is not last:
                raise RewindRefused("not_last", f"only the last turn can be taken back, and that is turn {last.turn_index}, "
                                    f"not {turn_index}")
            if (row.extra or {}).get("reply_status") == "streaming":
                raise RewindRefused("not_ready", f"the patient is still answering turn {turn_index}; wait for the reply")
            row.extra = {**(row.extra or {}), **rewound_mark()}
            s.flush()
            state = self._lived_state(s, session_id)
        return state, _turn_record(row)

    def delete_learner(self, learner_id: str) -> list[SessionRecord]:
        """Delete every session of `learner_id` with its turns (and so its grades), and the personal
        key holding the id, in one transaction; returns the sessions deleted. Turns go first: no
        database-side cascade is relied on."""
        with self._session.begin() as s:
            rows = list(s.scalars(select(SessionRow).where(SessionRow.learner_id == learner_id)
                                  .order_by(SessionRow.created_at, SessionRow.id)))
            gone = [_session_record(row, *self._turn_stats(s, row.id)) for row in rows]
            ids = [row.id for row in rows]
            if ids:
                drop(s, ids)
                s.execute(delete(TurnRow).where(TurnRow.session_id.in_(ids)))
                s.execute(delete(SessionRow).where(SessionRow.id.in_(ids)))
            s.execute(delete(LearnerKeyRow).where(LearnerKeyRow.learner_id == learner_id))  # the id is free again
        return gone

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _turn(s: Session, session_id: str, index: int) -> TurnRow | None:
        return s.scalar(select(TurnRow).where(TurnRow.session_id == session_id, TurnRow.turn_index == index))

    @staticmethod
    def _lived_state(s: Session, session_id: str) -> SessionState | None:
        """The state after the newest turn not taken back, or the initial state."""
        rows = s.execute(select(TurnRow.session_state, TurnRow.extra).where(TurnRow.session_id == session_id)
                         .order_by(TurnRow.turn_index.desc())).all()
        for state, extra in rows:
            if not rewound_extra(extra):
                return SessionState.model_validate(state)
        row = s.get(SessionRow, session_id)
        return SessionState.model_validate(row.initial_state) if row else None

    @staticmethod
    def _turn_stats(s: Session, session_id: str) -> tuple[int, datetime | None]:
        """How many turns the session has, and when the newest was stored."""
        n, last = s.execute(select(func.count(TurnRow.id), func.max(TurnRow.created_at))
                            .where(TurnRow.session_id == session_id)).one()
        return n or 0, last

    @staticmethod
    def _same_or_conflict(existing: TurnRow | TurnRecord, result: TurnResult) -> TurnRecord:
        record = existing if isinstance(existing, TurnRecord) else _turn_record(existing)
        if record.learner_text != result.learner_text:
            raise TurnConflict(record)
        return record


def open_store(url: str) -> SqlSessionStore:
    """The store for a database URL (what the server, CLI and tests all call)."""
    return SqlSessionStore(url)
