"""Request and response models of the case editor's API (/api/cases, educator token only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from ..core.grade import Grade
from ..core.types import EmotionalState, SessionState
from ..persona.loader import MAX_PACK_BYTES, Problem
from ..persona.schema import Emotion

MAX_TRY_TEXT = 2000

# Fields that hold the id of another part of the pack, as path patterns (`*`: any list index
# or mapping key) -> what they name. The form offers these as a choice of ids, never typed.
# They mirror the checks of server/persona/schema.py `cross_reference_problems` (and of met_when).
REFERENCES: dict[str, str] = {
    "visit.presenting": "fact",
    "facts.*.gate.requires.*": "prerequisite",
    "hidden_concerns.*.gate.requires.*": "prerequisite",
    "empathic_opportunities.*.trigger.fact": "fact",
    "patient_questions.*.trigger.fact": "fact",
    "social_context.*": "fact",
    "checklist.*.facts.*": "fact_or_concern",
    "learning_objectives.*.met_when.opportunity": "opportunity",
    "learning_objectives.*.met_when.concern_revealed": "concern",
    "learning_objectives.*.met_when.fact_disclosed": "fact",
    "learning_objectives.*.met_when.checklist": "checklist",
}

# Mappings whose keys come from a fixed set (the JSON Schema of a dict does not list them).
KEYS: dict[str, list[str]] = {"reactions.empathy": [e.value for e in Emotion] + ["any"]}


class CaseDraft(BaseModel):
    """A pack being edited: the form's data, or YAML text (pasted, or from the YAML view)."""

    data: dict[str, Any] | None = Field(None, description="The pack as JSON (what the form holds).")
    yaml: str | None = Field(None, max_length=MAX_PACK_BYTES, description="The pack as YAML text.")

    @model_validator(mode="after")
    def _one_of(self) -> "CaseDraft":
        if (self.data is None) == (self.yaml is None):
            raise ValueError("send the draft as exactly one of 'data' (JSON) or 'yaml' (text)")
        return self


class CheckRequest(CaseDraft):
    full: bool = Field(False, description="Also run `bedside persona check` (reachability, coverage, clashes): seconds, not ms.")


class CaseProblem(BaseModel):
    path: str = Field(description="Dotted location, e.g. 'facts.3.answers.open'; '(yaml)' or '(top level)' for the whole text.")
    line: int | None = Field(None, description="Line in the YAML text (YAML drafts only).")
    message: str
    hint: str

    @classmethod
    def of(cls, p: Problem, with_line: bool) -> "CaseProblem":
        return cls(path=p.field, line=p.line if with_line else None, message=p.message, hint=p.hint)


class Reached(BaseModel):
    turn: int
    learner: str


class FullReport(BaseModel):
    """`bedside persona check --json` for the draft, less its question-by-question detail."""

    errors: list[str] = Field(description="Hidden concerns never revealed, opportunities never raised.")
    warnings: list[str] = Field(description="Coverage gaps and clashes: worth a look.")
    simulated_turns: int
    reached: dict[str, Reached]
    covered_share: float

    @classmethod
    def of(cls, r: dict) -> "FullReport":
        return cls(errors=r["errors"], warnings=r["warnings"], simulated_turns=r["simulated_turns"], reached=r["reached"],
                   covered_share=r["coverage"]["covered_share"])


class CheckResult(BaseModel):
    ok: bool = Field(description="No schema problems (and, for a full check, no errors).")
    problems: list[CaseProblem]
    data: dict[str, Any] | None = Field(None, description="A YAML draft's data, parsed (when the text is YAML at all).")
    report: FullReport | None = None


class CaseRefused(BaseModel):
    """A draft that could not be used (saved, tried): what to fix, field by field."""

    detail: str
    problems: list[CaseProblem]


class CaseSummary(BaseModel):
    id: str
    title: str
    pack_version: str | None
    versions: int = Field(description="Earlier versions kept in the history.")


class CaseList(BaseModel):
    cases: list[CaseSummary]
    refused: list[str] = Field(description="Pack files in the directory that do not load; open them by id to fix them.")


class CaseText(BaseModel):
    id: str
    yaml: str = Field(description="The file as written, comments and all.")
    data: dict[str, Any] | None = Field(description="The same as JSON; None when the YAML does not parse.")
    pack_version: str | None = Field(description="The version to send back as expected_version on save.")


class SchemaInfo(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema of a persona pack (`bedside persona schema`).")
    references: dict[str, str] = Field(description="Path pattern -> what kind of id the field names (fact, concern, "
                                                   "opportunity, checklist, prerequisite, fact_or_concern).")
    keys: dict[str, list[str]] = Field(description="Path of a mapping field -> the keys it accepts (e.g. the emotions of "
                                                   "reactions.empathy).")
    max_bytes: int = MAX_PACK_BYTES

    model_config = {"populate_by_name": True}


class SaveRequest(CaseDraft):
    base_yaml: str | None = Field(None, max_length=MAX_PACK_BYTES,
                                  description="The text the data was edited from; its comments and layout are kept.")
    expected_version: str | None = Field(None, description="The pack_version the editor opened; a save over a file "
                                                           "changed since is refused (409).")
    create: bool = Field(False, description="A new case: refused (409) if the id is taken.")


class VersionInfo(BaseModel):
    version_id: str
    saved_at: datetime = Field(description="When this text was replaced by a later save.")
    pack_version: str
    size: int


class VersionList(BaseModel):
    id: str
    current: str | None = Field(description="The pack_version of the file now.")
    versions: list[VersionInfo] = Field(description="Earlier versions, newest first.")


class Saved(VersionList):
    pack_version: str


class TryRequest(CaseDraft):
    state: SessionState | None = Field(None, description="The state from the last reply; none starts the conversation.")
    text: str | None = Field(None, max_length=MAX_TRY_TEXT, description="The learner's turn (typed).")


class TryReply(BaseModel):
    """One turn of a try-it chat. Nothing is stored: the client keeps `state` and sends it back."""

    state: SessionState
    reply: str
    opening: bool = Field(description="True for the patient's opening words.")
    act: str | None = None
    grade: Grade | None = None
    disclosed: list[str] = Field(default_factory=list)
    feeling: EmotionalState
    pack_version: str = Field(description="'draft:<hash>': the draft as tried.")
