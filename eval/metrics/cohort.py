"""Cohort figures: the per-session metrics grouped by learner and by persona, and each
learner's progress across sessions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from statistics import mean
from typing import Literal

from pydantic import BaseModel

from .session import PASS_ECCS, SessionMetrics

TREND_STEP = 0.1
"""ECCS levels per session: a fitted slope beyond +/- this counts as growing/declining."""
MIN_TREND_SESSIONS = 3


class GroupStats(BaseModel):
    key: str
    label: str
    title: str = ""
    """A longer name (the persona's title), for tooltips and headings."""
    sessions: int
    completed: int = 0
    """Sessions the learner ended."""
    abandoned: int = 0
    """Sessions left without an end and idle past BEDSIDE_ABANDON_AFTER_MIN (server/store/status.py)."""
    active: int = 0
    """Sessions still in progress."""
    turns: int
    opportunities: int
    opportunities_met: int = 0
    """ECCS-graded turns at level >= 3 (the feeling acknowledged)."""
    mean_eccs: float | None
    """Mean over every ECCS-graded turn in the group (not a mean of session means)."""
    eccs_pass_share: float | None
    missed_share: float | None
    """Share of ECCS-graded turns at level <= 2 (missed empathic opportunities)."""
    final_trust: float | None
    trust_gain: float | None
    care_total: float | None
    checklist_coverage: float | None
    concerns_share: float | None
    open_share: float | None
    learner_talk_share: float | None
    interruptions_per_session: float | None
    top_flags: list[tuple[str, int]]


class ProgressPoint(BaseModel):
    n: int
    session_id: str
    started_at: datetime
    persona_id: str
    mean_eccs: float | None
    final_trust: float | None


class Progress(BaseModel):
    learner_id: str
    points: list[ProgressPoint]
    slope: float | None
    """Least-squares change in session mean ECCS per session."""
    trend: Literal["growing", "declining", "steady", "too few sessions"]


class CohortMetrics(BaseModel):
    sessions: int
    turns: int
    learners: int
    personas: int
    first: datetime | None
    last: datetime | None
    overall: GroupStats
    by_learner: list[GroupStats]
    by_persona: list[GroupStats]
    struggle: list[GroupStats]
    """Personas, hardest first (lowest mean ECCS, then most missed opportunities)."""
    progress: list[Progress]


def _avg(values: Iterable[float | None], digits: int = 3) -> float | None:
    xs = [v for v in values if v is not None]
    return round(mean(xs), digits) if xs else None


def group_stats(key: str, label: str, ms: list[SessionMetrics], title: str = "") -> GroupStats:
    eccs = [v.grade.eccs for m in ms for v in m.views if v.grade.eccs is not None]
    opens = sum(m.questions.open for m in ms)
    asked = opens + sum(m.questions.closed for m in ms)
    flags = Counter()
    for m in ms:
        flags.update(m.flag_counts)
    gains = [m.final_trust - m.initial_trust for m in ms if m.final_trust is not None and m.initial_trust is not None]
    met = sum(e >= PASS_ECCS for e in eccs)
    status = Counter(m.status for m in ms)
    return GroupStats(
        key=key, label=label, title=title or label, sessions=len(ms), completed=status["ended"],
        abandoned=status["abandoned"], active=status["active"], turns=sum(m.turns for m in ms), opportunities=len(eccs),
        opportunities_met=met, mean_eccs=_avg(eccs), eccs_pass_share=round(met / len(eccs), 3) if eccs else None,
        missed_share=round(sum(e <= PASS_ECCS - 1 for e in eccs) / len(eccs), 3) if eccs else None,
        final_trust=_avg(m.final_trust for m in ms), trust_gain=_avg(gains),
        care_total=_avg((m.care_total for m in ms), 1), checklist_coverage=_avg(m.coverage.checklist_coverage for m in ms),
        concerns_share=_avg(m.coverage.concerns_share for m in ms), open_share=round(opens / asked, 3) if asked else None,
        learner_talk_share=_avg(m.talk.learner_share for m in ms),
        interruptions_per_session=_avg((m.talk.interruptions + m.talk.barge_ins for m in ms), 2),
        top_flags=flags.most_common(3),
    )


def _slope(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx, 4) if sxx else None


def learner_progress(learner_id: str, ms: list[SessionMetrics]) -> Progress:
    ordered = sorted(ms, key=lambda m: (m.started_at, m.session_id))
    points = [ProgressPoint(n=i, session_id=m.session_id, started_at=m.started_at, persona_id=m.persona_id,
                            mean_eccs=m.mean_eccs, final_trust=m.final_trust) for i, m in enumerate(ordered, 1)]
    scored = [p for p in points if p.mean_eccs is not None]
    slope = _slope([p.n for p in scored], [p.mean_eccs for p in scored])
    if len(scored) < MIN_TREND_SESSIONS or slope is None:
        trend = "too few sessions"
    else:
        trend = "growing" if slope > TREND_STEP else "declining" if slope < -TREND_STEP else "steady"
    return Progress(learner_id=learner_id, points=points, slope=slope, trend=trend)


def _grouped(ms: list[SessionMetrics], key: Callable[[SessionMetrics], str]) -> dict[str, list[SessionMetrics]]:
    groups: dict[str, list[SessionMetrics]] = defaultdict(list)
    for m in ms:
        groups[key(m)].append(m)
    return dict(sorted(groups.items()))


def cohort_metrics(ms: list[SessionMetrics]) -> CohortMetrics:
    learners = _grouped(ms, lambda m: m.learner_id)
    personas = _grouped(ms, lambda m: m.persona_id)
    by_persona = [group_stats(k, k, v, title=v[0].persona_title) for k, v in personas.items()]
    hardest = sorted(by_persona, key=lambda g: (g.mean_eccs if g.mean_eccs is not None else 99, -(g.missed_share or 0)))
    starts = [m.started_at for m in ms]
    return CohortMetrics(
        sessions=len(ms), turns=sum(m.turns for m in ms), learners=len(learners), personas=len(personas),
        first=min(starts, default=None), last=max(starts, default=None), overall=group_stats("all", "All sessions", ms),
        by_learner=[group_stats(k, k, v) for k, v in learners.items()], by_persona=by_persona, struggle=hardest,
        progress=[learner_progress(k, v) for k, v in learners.items()],
    )
