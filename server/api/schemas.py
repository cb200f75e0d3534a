"""Response models of the HTTP API (they also document it in /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ..core.types import EmotionalState
from ..engine.summary import SessionSummary
from ..grading.base import Grade
from ..persona.loader import Problem
from ..persona.schema import PersonaPack
from ..store.records import SessionRecord, TurnRecord


class PatientInfo(BaseModel):
    name: str
    age: int
    gender: str


class PersonaInfo(BaseModel):
    """What a learner sees before choosing a case; hidden facts and concerns stay private."""

    id: str
    title: str
    setting: str
    difficulty: str
    learning_objectives: list[str]
    patient: PatientInfo
    language: str

    @classmethod
    def of(cls, pack: PersonaPack) -> "PersonaInfo":
        ident = pack.identity
        return cls(id=pack.id, title=pack.title, setting=pack.setting, difficulty=pack.difficulty.value,
                   learning_objectives=pack.objective_texts(),
                   patient=PatientInfo(name=ident.name, age=ident.age, gender=ident.gender), language=ident.language)


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


class SessionInfo(BaseModel):
    id: str
    learner_id: str
    persona_id: str
    mode: Literal["text", "voice"]
    status: Literal["active", "ended"]
    created_at: datetime
    ended_at: datetime | None
    turns: int
    interruptions: int
    schema_version: int

    @classmethod
    def of(cls, s: SessionRecord) -> "SessionInfo":
        return cls(id=s.id, learner_id=s.learner_id, persona_id=s.persona_id, mode=s.mode, status=s.status,
                   created_at=s.created_at, ended_at=s.ended_at, turns=s.turn_count, interruptions=s.interruptions,
                   schema_version=s.schema_version)


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

    @classmethod
    def of(cls, t: TurnRecord) -> "TurnInfo":
        return cls(turn_id=t.turn_index, learner_text=t.learner_text, act=t.act, grade=t.grade,
                   state_before=t.state_before, state_after=t.state_after, disclosed=t.disclosed, reply=t.reply,
                   realiser=t.realiser, interrupted=t.interrupted, timings_ms=t.timings_ms,
                   client_turn_id=t.client_turn_id, created_at=t.created_at,
                   barged_in=bool(t.extra.get("barged_in")), voice=_voice_info(t.extra))


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


class ErrorBody(BaseModel):
    detail: str
