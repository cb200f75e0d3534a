"""SQLAlchemy tables. Portable types only, so SQLite and PostgreSQL share one schema.

UNIQUE(session_id, turn_index) is what makes a turn impossible to write twice,
whatever the caller does (retries, reconnects, two sockets on one session).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .records import SCHEMA_VERSION


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(200), index=True)
    persona_id: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    opening: Mapped[str] = mapped_column(Text)
    initial_state: Mapped[dict] = mapped_column(JSON)
    final_state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    interruptions: Mapped[int] = mapped_column(Integer, default=0)
    schema_version: Mapped[int] = mapped_column(Integer, default=SCHEMA_VERSION)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_id", "turn_index", name="uq_turns_session_turn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36), ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    turn_index: Mapped[int] = mapped_column(Integer)
    learner_text: Mapped[str] = mapped_column(Text)
    act: Mapped[str] = mapped_column(String(32))
    grade: Mapped[dict] = mapped_column(JSON)
    grader_version: Mapped[str] = mapped_column(String(64))
    state_before: Mapped[dict] = mapped_column(JSON)
    state_after: Mapped[dict] = mapped_column(JSON)
    disclosed: Mapped[list] = mapped_column(JSON)
    reply: Mapped[str] = mapped_column(Text)
    realiser: Mapped[str] = mapped_column(String(64))
    timings: Mapped[dict] = mapped_column(JSON)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_state: Mapped[dict] = mapped_column(JSON)
    extra: Mapped[dict] = mapped_column(JSON)
    schema_version: Mapped[int] = mapped_column(Integer, default=SCHEMA_VERSION)


class LearnerKeyRow(Base):
    """A learner's personal key (server/store/learner_keys.py): only its SHA-256 digest is kept.

    A table of its own, so databases made before keys existed gain it through create_all.
    `learner_id` stays empty until the key's first session ties it to the name used there.
    """

    __tablename__ = "learner_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SessionLeaseRow(Base):
    """Which replica's connection drives a session (server/store/leases.py).

    A table of its own, so databases made before replicas gain it through create_all. The row
    lives from the session's start to its end; a release only empties `replica` and
    `connection`, so `epoch` keeps growing across every claim the session ever sees.
    """

    __tablename__ = "session_leases"

    session_id: Mapped[str] = mapped_column(String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    replica: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    connection: Mapped[str | None] = mapped_column(String(64), nullable=True)
    epoch: Mapped[int] = mapped_column(Integer)
    busy: Mapped[bool] = mapped_column(Boolean, default=False)  # a turn is in flight
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
