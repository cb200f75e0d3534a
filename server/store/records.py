"""Typed rows the store hands out. Callers never see SQLAlchemy objects.

These are the boundary between persistence and everything else (API, CLI, export),
so JSON columns are parsed back into the engine's own models here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..core.types import ContentPlan, DialogueAct, EmotionalState, SessionState, TurnResult
from ..grading.base import Grade

SCHEMA_VERSION = 1
"""Version of the stored row layout; written on every row and every exported line."""

Mode = Literal["text", "voice"]
Status = Literal["active", "ended"]


class SessionRecord(BaseModel):
    id: str
    learner_id: str
    persona_id: str
    mode: Mode
    created_at: datetime
    ended_at: datetime | None = None
    status: Status
    token_hash: str = Field(repr=False, description="SHA-256 of the learner's session token; never the token itself.")
    opening: str
    initial_state: SessionState
    final_state: SessionState | None = None
    summary: dict[str, Any] | None = None
    interruptions: int = 0
    turn_count: int = 0
    last_turn_at: datetime | None = Field(None, description="When the newest turn was stored; None without turns.")
    schema_version: int = SCHEMA_VERSION


class TurnRecord(BaseModel):
    session_id: str
    turn_index: int
    learner_text: str
    act: str
    grade: Grade
    grader_version: str
    state_before: EmotionalState
    state_after: EmotionalState
    disclosed: list[str] = Field(default_factory=list)
    reply: str
    realiser: str
    timings_ms: dict[str, float] = Field(default_factory=dict)
    interrupted: bool = False
    created_at: datetime
    session_state: SessionState = Field(description="Full engine state after this turn; what a resume continues from.")
    extra: dict[str, Any] = Field(default_factory=dict, description="client_turn_id, the content plan, later voice fields.")
    schema_version: int = SCHEMA_VERSION

    @property
    def client_turn_id(self) -> str | None:
        return self.extra.get("client_turn_id")

    @property
    def fallback_reason(self) -> str | None:
        """Why a model realiser's words were not (all) used; None for the template or a clean reply."""
        return (self.extra.get("realisation") or {}).get("fallback_reason")

    @property
    def rejected_reply(self) -> str | None:
        """The generated text the grounding check rejected, kept for review."""
        return (self.extra.get("realisation") or {}).get("rejected_reply")

    def to_turn_result(self) -> TurnResult:
        """Rebuild the engine's TurnResult, e.g. to summarise a resumed session."""
        plan = self.extra.get("plan")
        return TurnResult(
            turn_index=self.turn_index, learner_text=self.learner_text, act=DialogueAct(self.act), grade=self.grade,
            state_before=self.state_before, state_after=self.state_after,
            plan=ContentPlan.model_validate(plan) if plan else ContentPlan(style=self.state_after.style, emotion=self.state_after.emotion),
            disclosed=self.disclosed, reply=self.reply, realiser=self.realiser, timings_ms=self.timings_ms,
            fallback_reason=self.fallback_reason, rejected_reply=self.rejected_reply,
        )


class SessionFilter(BaseModel):
    """Filters for listing sessions; None means 'any'. Times are compared with created_at."""

    learner_id: str | None = None
    persona_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class LearnerKeyRecord(BaseModel):
    key_hash: str = Field(repr=False, description="SHA-256 of the key; never the key itself.")
    learner_id: str | None = Field(description="None until the key's first session ties it to a learner id.")
    created_at: datetime
    bound_at: datetime | None = None

    def owns(self, session: SessionRecord) -> bool:
        """True for a session started under this key's learner id once the key held it."""
        return (self.learner_id is not None and self.bound_at is not None
                and session.learner_id == self.learner_id and session.created_at >= self.bound_at)


class Lease(BaseModel, frozen=True):
    """One connection's hold on a session (server/store/leases.py), shown by every commit it makes.

    `replica` is the server process, `connection` the socket in it; `epoch` grows with every
    claim, so a lease taken over is told apart from the one that replaced it."""

    session_id: str
    replica: str
    connection: str
    epoch: int
    ttl_s: float = Field(description="How long each renewal keeps the lease alive without a heartbeat.")


class LeaseState(BaseModel):
    """A session's lease row as stored: who holds it (None after a release) and whether a turn is in flight."""

    session_id: str
    replica: str | None
    connection: str | None
    epoch: int
    busy: bool
    expires_at: datetime
    heartbeat_at: datetime
