"""Which sessions to evaluate: by learner, persona, start date and id."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field

from server.store.records import SessionFilter

from ..records import EvalSession


def parse_when(value: str, *, end_of_day: bool = False) -> datetime:
    """ISO date or datetime. A bare date as an upper bound means the whole of that day."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    if end_of_day:
        return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(microseconds=1)
    return datetime.combine(day, time(), UTC)


class EvalFilter(BaseModel):
    """Empty lists and None mean 'any'. Dates compare with the session's start."""

    learners: list[str] = Field(default_factory=list)
    personas: list[str] = Field(default_factory=list)
    session_ids: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, s: EvalSession) -> bool:
        started = s.started_at if s.started_at.tzinfo else s.started_at.replace(tzinfo=UTC)
        return ((not self.learners or s.learner_id in self.learners)
                and (not self.personas or s.persona_id in self.personas)
                and (not self.session_ids or s.id in self.session_ids)
                and (self.since is None or started >= self.since)
                and (self.until is None or started <= self.until))

    def for_store(self) -> SessionFilter:
        """The part the store can apply in SQL; `matches` does the rest."""
        return SessionFilter(
            learner_id=self.learners[0] if len(self.learners) == 1 else None,
            persona_id=self.personas[0] if len(self.personas) == 1 else None,
            since=self.since, until=self.until,
        )
