"""Models of the learner history API (server/api/learner_keys.py): a new personal key and
the key holder's own sessions, each with its case and headline scores (`SessionInfo.scores`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from ..persona.schema import PersonaPack
from ..store.records import SessionRecord
from .schemas import SessionInfo


class LearnerKeyCreated(BaseModel):
    key: str = Field(description="The personal key. Shown this once: the server keeps only its SHA-256 digest. Send it "
                     "as session.start's learner_key and as 'Authorization: Bearer <key>' to read your sessions.")
    created_at: datetime


class MySession(BaseModel):
    session: SessionInfo = Field(description="As in GET /api/sessions; `scores` is filled once the session has ended.")
    title: str = Field(description="The case's title (the persona id if the pack is no longer loaded).")
    patient_name: str | None = None

    @classmethod
    def of(cls, record: SessionRecord, pack: PersonaPack | None, abandon_after: timedelta | None) -> "MySession":
        return cls(session=SessionInfo.of(record, abandon_after), title=pack.title if pack else record.persona_id,
                   patient_name=pack.identity.name if pack else None)


class MySessions(BaseModel):
    learner_id: str | None = Field(description="The learner id the key holds; null until its first session.")
    sessions: list[MySession] = Field(description="Newest first. Open one with GET /api/sessions/{id} and the same key.")
