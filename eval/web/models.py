"""Response models of the cohort route (they also document it in /openapi.json)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..load.filters import EvalFilter
from ..metrics.cohort import CohortMetrics
from ..metrics.session import SessionMetrics


class CohortFilters(BaseModel):
    """The filters the report was made with; empty lists and null mean 'any'."""

    persona_id: list[str] = Field(default_factory=list)
    learner_id: list[str] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    def eval_filter(self) -> EvalFilter:
        return EvalFilter(learners=self.learner_id, personas=self.persona_id, since=self.since, until=self.until)


class CohortSession(BaseModel):
    """One session's row in the report: the figures its own report page opens with."""

    session_id: str
    learner_id: str
    persona_id: str
    persona_title: str
    mode: str
    status: str = Field(description="active, ended or abandoned (as in GET /api/sessions)")
    started_at: datetime
    turns: int
    opportunities: int = Field(description="Turns graded on ECCS (answering an empathic opportunity).")
    mean_eccs: float | None
    opportunities_met: int = Field(description="Of those turns, the ones at ECCS 3 or more.")
    concerns_found: int
    concerns_total: int
    checklist_coverage: float | None
    care_total: int | None
    final_trust: float | None

    @classmethod
    def of(cls, m: SessionMetrics) -> "CohortSession":
        return cls(session_id=m.session_id, learner_id=m.learner_id, persona_id=m.persona_id,
                   persona_title=m.persona_title, mode=m.mode, status=m.status, started_at=m.started_at, turns=m.turns,
                   opportunities=m.opportunities, mean_eccs=m.mean_eccs, opportunities_met=m.opportunities - len(m.missed),
                   concerns_found=sum(d.turn is not None for d in m.coverage.concerns),
                   concerns_total=len(m.coverage.concerns), checklist_coverage=m.coverage.checklist_coverage,
                   care_total=m.care_total, final_trust=m.final_trust)


class CohortReport(BaseModel):
    """`bedside eval cohort`'s figures as JSON: the same numbers, for the educator page."""

    filters: CohortFilters
    abandon_after_min: float = Field(description="Minutes without a turn after which a session not ended counts as "
                                     "abandoned (BEDSIDE_ABANDON_AFTER_MIN; 0: never).")
    cohort: CohortMetrics
    sessions: list[CohortSession] = Field(description="Oldest first.")
