"""Response models of the HTTP API (they also document it in /openapi.json)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from ..core.types import EmotionalState
from ..engine.care_rule import feelings_met
from ..engine.summary import SessionSummary
from ..grading.base import Grade
from ..persona.loader import Problem
from ..persona.schema import Appearance, PersonaPack
from ..store.branches import TurnBranch, branch_of, retry_of
from ..store.records import SessionRecord, TurnRecord
from ..store.status import ReadStatus, read_status


class PatientInfo(BaseModel):
    name: str
    age: int
    gender: str
    appearance: Appearance = Field(description="How the client draws the patient's face; every field filled in "
                                   "(what the pack leaves out follows from age and gender).")


class PersonaInfo(BaseModel):
    """What a learner sees before choosing a case; hidden facts and concerns stay private."""

    id: str
    title: str
    setting: str
    difficulty: str
    learning_objectives: list[str]
    patient: PatientInfo
    language: str
    allow_retry: bool = Field(True, description="Whether the learner may take back their last turn (turn.retry).")

    @classmethod
    def of(cls, pack: PersonaPack) -> "PersonaInfo":
        ident = pack.identity
        return cls(id=pack.id, title=pack.title, setting=pack.setting, difficulty=pack.difficulty.value,
                   learning_objectives=pack.objective_texts(),
                   patient=PatientInfo(name=ident.name, age=ident.age, gender=ident.gender,
                                       appearance=pack.appearance.resolved(ident)),
                   language=ident.language, allow_retry=pack.allow_retry)


class PackProblem(BaseModel):
    line: int
    field: str
    message: str
    hint: str
    text: str = Field(description="The problem as `bedside persona validate` prints it: file:line: field: message (hint: ...).")


class RefusedPack(BaseModel):
    """A pack that failed validation at start-up; the other packs still load."""

    file: str
    problems: list[PackProblem]

    @classmethod
    def group(cls, problems: list[Problem]) -> list["RefusedPack"]:
        by_file: dict[str, list[PackProblem]] = {}
        for p in problems:
            short = "/".join(Path(p.file).parts[-2:])  # "<pack>/persona.yaml": no server path for anonymous callers
            by_file.setdefault(short, []).append(PackProblem(line=p.line, field=p.field, message=p.message, hint=p.hint,
                                                             text=f"{short}:{p.line}: {p.field}: {p.message} (hint: {p.hint})"))
        return [cls(file=f, problems=ps) for f, ps in by_file.items()]


class PersonaList(BaseModel):
    personas: list[PersonaInfo]
    refused: list[RefusedPack]


class SessionScores(BaseModel):
    """The headline figures of an ended session, read from its stored summary."""

    mean_eccs: float | None = Field(description="Mean ECCS level (0-6) over the turns that answered an empathic "
                                    "opportunity (turns graded on ECCS); null when no turn did.")
    opportunities_met: int = Field(description="Of those turns, how many reached ECCS 3 or more (the feeling acknowledged).")
    opportunities: int = Field(description="Turns that answered an empathic opportunity (turns graded on ECCS).")
    concerns_found: int = Field(description="Hidden concerns the patient revealed.")
    concerns_total: int = Field(description="Hidden concerns in the case.")

    @classmethod
    def of(cls, summary: SessionSummary) -> "SessionScores":
        return cls(mean_eccs=summary.mean_eccs, opportunities=summary.opportunities_answered,
                   opportunities_met=feelings_met(summary),
                   concerns_found=len(summary.concerns_revealed), concerns_total=summary.concerns_total)


class SessionInfo(BaseModel):
    id: str
    learner_id: str
    persona_id: str
    mode: Literal["text", "voice"]
    status: ReadStatus = Field(description="active, ended, or abandoned: not ended and no turn for "
                               "BEDSIDE_ABANDON_AFTER_MIN minutes (derived when read; a resumed session's next turn "
                               "makes it active again).")
    created_at: datetime
    ended_at: datetime | None
    turns: int
    interruptions: int
    schema_version: int
    last_turn_at: datetime | None = Field(None, description="When the newest turn was stored; null without turns.")
    scores: SessionScores | None = Field(None, description="Ended sessions: mean ECCS, opportunities met, concerns found.")
    pack_version: str | None = Field(None, description="The case file's version the session ran against (sha256, 12 "
                                                       "hex; GET /api/cases/{id}/versions); None before versions were kept.")

    @classmethod
    def of(cls, s: SessionRecord, abandon_after: timedelta | None = None) -> "SessionInfo":
        """`abandon_after` (settings.abandon_after) decides which active sessions read as abandoned."""
        return cls(id=s.id, learner_id=s.learner_id, persona_id=s.persona_id, mode=s.mode,
                   status=read_status(s.status, s.created_at, s.last_turn_at, abandon_after),
                   created_at=s.created_at, ended_at=s.ended_at, turns=s.turn_count, interruptions=s.interruptions,
                   schema_version=s.schema_version, last_turn_at=s.last_turn_at, scores=_scores(s.summary),
                   pack_version=s.initial_state.pack_version)


def _scores(summary: dict | None) -> SessionScores | None:
    """Scores from a stored summary; a summary this version cannot read gives none rather than an error."""
    if not summary:
        return None
    try:
        return SessionScores.of(SessionSummary.model_validate(summary))
    except ValidationError:
        return None


class TurnInfo(BaseModel):
    turn_id: int
    learner_text: str
    act: str
    grade: Grade
    state_before: EmotionalState
    state_after: EmotionalState
    disclosed: list[str]
    reply: str
    realiser: str
    interrupted: bool
    timings_ms: dict[str, float]
    client_turn_id: str | None
    created_at: datetime
    barged_in: bool = Field(False, description="The learner spoke over the patient's previous reply.")
    voice: dict | None = Field(None, description="Voice turns: audio duration, ASR backend/model, no-speech "
                               "probability, stage timings (ms from the end of learner speech).")
    branch: TurnBranch | None = Field(None, description="Set on a turn the learner took back (\"Try that again\"): "
                                      "shown, but not part of the conversation the patient lived.")
    retry_of: int | None = Field(None, description="The taken-back turn this one says another way.")

    @classmethod
    def of(cls, t: TurnRecord) -> "TurnInfo":
        return cls(turn_id=t.turn_index, learner_text=t.learner_text, act=t.act, grade=t.grade,
                   state_before=t.state_before, state_after=t.state_after, disclosed=t.disclosed, reply=t.reply,
                   realiser=t.realiser, interrupted=t.interrupted, timings_ms=t.timings_ms,
                   client_turn_id=t.client_turn_id, created_at=t.created_at,
                   barged_in=bool(t.extra.get("barged_in")), voice=_voice_info(t.extra),
                   branch=branch_of(t), retry_of=retry_of(t))


def _voice_info(extra: dict) -> dict | None:
    if "voice" not in extra:
        return None
    return {**extra["voice"], "timings_ms": extra.get("voice_timings_ms"), "stages_ms": extra.get("stages_ms")}


class SessionDetail(BaseModel):
    session: SessionInfo
    opening: str
    turns: list[TurnInfo]
    summary: SessionSummary | None = Field(None, description="Present once the session has ended.")
    checklist_items: dict[str, str] = Field(default_factory=dict, description="Once the session has ended: the "
                                            "persona's history-checklist ids -> their wording, for the debrief.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    personas: int
    refused: int
    database: str = Field(description="Database backend name (sqlite or postgresql).")


class ReadinessCheck(BaseModel):
    name: Literal["database", "persona_packs", "grader", "realiser", "asr", "tts", "end_of_turn", "draining"]
    ready: bool
    detail: str = Field(description="What was checked and what was found.")
    fix: str | None = Field(None, description="How to make it ready; null when it is.")


class Readiness(BaseModel):
    """GET /readyz: 200 when every check passes, else 503 with the same body (`not_ready` names the
    checks that failed). /healthz stays the liveness probe: it answers while the process is up."""
    status: Literal["ready", "not_ready"]
    not_ready: list[str] = Field(description="Names of the checks that failed; empty when ready.")
    checks: list[ReadinessCheck]


class ErrorBody(BaseModel):
    detail: str
