"""Delete everything stored about one learner: sessions, turns, grades, their personal key
and saved audio.

Learners may ask for their data to be erased, and "until deleted" is the only retention
period Bedside has (docs/security.md). Rows go through the store's own API, so SQLite and
PostgreSQL behave alike; audio is removed after the rows, which are the record of truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, StringConstraints, field_validator

from .audio import recorded_audio, remove_session_audio
from .base import SessionStore
from .records import SessionFilter

LearnerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""As the websocket accepts it (server/api/protocol.py), so any stored learner id can be named."""


class DeleteLearner(BaseModel):
    learner_id: LearnerId

    @field_validator("learner_id", mode="before")
    @classmethod
    def _storable(cls, value):
        """argv bytes that are not UTF-8 arrive as lone surrogates; no stored id holds those or NUL."""
        if isinstance(value, str) and ("\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)):
            raise ValueError("holds a NUL character or bytes that are not UTF-8, which no stored learner id can")
        return value


class Deleted(BaseModel):
    learner_id: str
    sessions: int
    turns: int
    audio_files: int


def delete_learner_data(store: SessionStore, learner_id: str, data_dir: Path) -> Deleted:
    """Delete the learner's sessions from `store` and their audio under `data_dir` (or wherever
    each turn recorded it)."""
    learner_id = DeleteLearner(learner_id=learner_id).learner_id
    recorded = {s.id: recorded_audio(s.id, store.turns(s.id))
                for s in store.list_sessions(SessionFilter(learner_id=learner_id))}
    gone = store.delete_learner(learner_id)
    files = sum(remove_session_audio(data_dir, s.id, recorded.get(s.id, ())) for s in gone)
    return Deleted(learner_id=learner_id, sessions=len(gone), turns=sum(s.turn_count for s in gone), audio_files=files)
