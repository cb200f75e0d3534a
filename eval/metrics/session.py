"""Everything one session's report shows, computed once and typed.

The cohort figures are built from these, so a number on the cohort page always agrees
with the per-session pages it summarises.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from statistics import mean

from pydantic import BaseModel, Field

from server.engine.summary import MissedOpportunity
from server.grading.base import Grade

from ..packs import Packs
from ..records import EvalSession
from .disclosure import Coverage, coverage
from .opportunities import held_opportunities, patient_turns_before
from .summary import lived, session_summary
from .talk import TalkTime, talk_time

PASS_ECCS = 3
"""ECCS level that counts as acknowledging the feeling (the engine's own threshold)."""


class TurnView(BaseModel):
    """One learner turn as the report shows it."""

    turn: int
    created_at: datetime | None
    patient_before: str
    opportunity: str | None
    learner_text: str
    act: str
    grade: Grade
    reply: str
    trust: float
    distress: float
    emotion: str
    disclosed: list[str]
    learner_s: float
    patient_s: float
    interrupted: bool
    barged_in: bool


class QuestionMix(BaseModel):
    open: int = 0
    closed: int = 0
    none: int = 0

    @property
    def open_share(self) -> float | None:
        asked = self.open + self.closed
        return round(self.open / asked, 3) if asked else None


class SessionMetrics(BaseModel):
    session_id: str
    learner_id: str
    persona_id: str
    persona_title: str
    mode: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    schema_version: int
    grader_versions: list[str]
    turns: int
    opening: str | None
    opportunities: int = Field(description="Turns graded on ECCS (answering an empathic opportunity).")
    mean_eccs: float | None
    eccs_pass_share: float | None = Field(description=f"Share of ECCS-graded turns at level >= {PASS_ECCS}.")
    initial_trust: float | None
    initial_distress: float | None
    final_trust: float | None
    final_distress: float | None
    final_emotion: str | None
    questions: QuestionMix
    talk: TalkTime
    coverage: Coverage
    missed: list[MissedOpportunity]
    care: dict[str, int]
    care_total: int | None
    nurse_counts: dict[str, int]
    flag_counts: dict[str, int]
    views: list[TurnView]


def _mean(xs: list[float]) -> float | None:
    return round(mean(xs), 3) if xs else None


def session_metrics(session: EvalSession, packs: Packs) -> SessionMetrics:
    pack = packs.get(session.persona_id)
    opening = session.opening or packs.opening(session.persona_id)
    summary = session_summary(session, pack, opening)
    # every figure below is of the conversation the patient lived: a turn taken back ("Try that
    # again") stays in the JSONL export, but not in these scores (docs/debrief.md#retried-turns)
    session = session.model_copy(update={"turns": lived(session)})
    talk = talk_time(session, float(pack.voice.rate_wpm) if pack else 160.0)
    before = patient_turns_before(session, opening)
    held = held_opportunities(session, pack, opening)
    eccs = [t.grade.eccs for t in session.turns if t.grade.eccs is not None]
    qmix = Counter(t.grade.question_type for t in session.turns)
    nurse = Counter(n for t in session.turns for n in t.grade.nurse)
    flags = Counter(f for t in session.turns for f in t.grade.flags)
    first, last = (session.turns[0], session.turns[-1]) if session.turns else (None, None)
    views = [TurnView(
        turn=t.turn, created_at=t.created_at, patient_before=before[t.turn], opportunity=held[t.turn], learner_text=t.learner_text, act=t.act,
        grade=t.grade, reply=t.reply, trust=t.state_after.trust, distress=t.state_after.distress,
        emotion=t.state_after.emotion, disclosed=t.disclosed, learner_s=tt.learner_s, patient_s=tt.patient_s,
        interrupted=t.interrupted, barged_in=t.barged_in,
    ) for t, tt in zip(session.turns, talk.per_turn)]
    return SessionMetrics(
        session_id=session.id, learner_id=session.learner_id, persona_id=session.persona_id,
        persona_title=packs.title(session.persona_id), mode=session.mode, status=session.status,
        started_at=session.started_at, ended_at=session.ended_at, schema_version=session.schema_version,
        grader_versions=sorted({t.grader_version for t in session.turns}), turns=len(session.turns), opening=opening,
        opportunities=len(eccs), mean_eccs=_mean(eccs),
        eccs_pass_share=round(sum(e >= PASS_ECCS for e in eccs) / len(eccs), 3) if eccs else None,
        initial_trust=first.state_before.trust if first else None,
        initial_distress=first.state_before.distress if first else None,
        final_trust=last.state_after.trust if last else None, final_distress=last.state_after.distress if last else None,
        final_emotion=last.state_after.emotion if last else None,
        questions=QuestionMix(open=qmix["open"], closed=qmix["closed"], none=qmix["none"]),
        talk=talk, coverage=coverage(session, pack),
        missed=summary.missed_opportunities if summary else [],
        care=summary.care if summary else {}, care_total=summary.care_total if summary and summary.care else None,
        nurse_counts=dict(nurse), flag_counts=dict(flags), views=views,
    )
