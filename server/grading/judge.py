"""An optional LLM judge: any OpenAI-compatible chat endpoint grades the turn with the same
output schema as the other backends.

The judge is asked for JSON only; the answer is validated against `JudgeOutput` and then
passes through the same manual constraints (`constraints.constrain`) as the trained grader.
A timeout, a connection error, an HTTP error or an answer that does not fit the schema never
breaks a session: the turn is graded by the fallback grader and the reason is logged.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .base import Epitome, Flag, Grade, GradeContext, Grader, NurseType
from .constraints import constrain
from .phrases import is_courtesy, is_plan_or_summary

log = logging.getLogger(__name__)
JUDGE_VERSION = "judge-1.0"


class JudgeOutput(BaseModel):
    """What the judge must return: a Grade without the fields Bedside fills itself."""

    model_config = ConfigDict(extra="ignore")
    eccs: int | None = Field(None, ge=0, le=6)
    nurse: list[NurseType] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    epitome: Epitome = Field(default_factory=Epitome)
    space: Literal["provides", "reduces", "neutral"] = "neutral"
    question_type: Literal["open", "closed", "none"] = "none"
    named_emotion: str | None = None


SYSTEM_PROMPT = """You code one clinician turn from a simulated consultation with published empathy schemes.
Return one JSON object and nothing else, matching this JSON Schema:
{schema}
Rules:
- eccs: Empathic Communication Coding System level 0-6 (Bylund & Makoul 2002): 0 denial/ignores, 1 perfunctory,
  2 implicit (takes up content, skips the feeling), 3 acknowledges the feeling, 4 acknowledges and asks about it,
  5 legitimises it, 6 brief shared feeling that stays on the patient. Only when the patient's previous turn held an
  empathic opportunity; otherwise null. Pity alone is at most 2; a dismissal is 0.
- nurse: NURSE statement types present (name, understand, respect, support, explore).
- flags: any of sympathy_only, false_understanding, premature_reassurance, dismissive, topic_switch (only after an
  opportunity), jargon, advice_before_exploring, assumption_or_stereotype.
- epitome: 0 none / 1 weak / 2 strong for emotional_reactions, interpretations, explorations (Sharma et al. 2020).
- space: provides / reduces / neutral (VR-CoDES).
- question_type: open / closed / none, decided by the last question asked.
- named_emotion: the feeling family the clinician attributes to the patient (fear, sadness, anger, frustration,
  shame, guilt, overwhelm, loneliness, relief) or null."""


def _user_message(text: str, ctx: GradeContext) -> str:
    opp = f"yes ({ctx.opportunity_kind or 'cue'})" if ctx.opportunity_id else "no"
    return (f"Patient's previous turn: {ctx.patient_turn!r}\nPatient's feeling: {ctx.patient_emotion or 'unknown'}\n"
            f"Empathic opportunity in that turn: {opp}\nConcerns already explored: {'yes' if ctx.explored_before else 'no'}\n"
            f"Clinician's reply to code: {text!r}")


def _json_from(content: str) -> dict:
    """The JSON object in a reply, tolerating a fenced code block around it."""
    m = re.search(r"\{.*\}", content, re.S)
    if not m:
        raise ValueError("no JSON object in the judge's reply")
    return json.loads(m.group(0))


class JudgeGrader(Grader):
    """Grades by asking a chat model; falls back to `fallback` on any failure."""

    def __init__(self, base_url: str, model: str, api_key: str | None, fallback: Grader, *, timeout: float = 20.0,
                 client: httpx.Client | None = None):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.fallback = fallback
        self.version = f"{JUDGE_VERSION}+{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.Client(timeout=timeout, headers=headers)
        schema = json.dumps(JudgeOutput.model_json_schema(), separators=(",", ":"))
        self.system = SYSTEM_PROMPT.format(schema=schema)
        self.last_error: str | None = None

    def ask(self, text: str, ctx: GradeContext) -> JudgeOutput:
        body = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": self.system}, {"role": "user", "content": _user_message(text, ctx)}],
        }
        r = self.client.post(self.url, json=body)
        r.raise_for_status()
        content = r.json()["choices"][0]["message"]["content"]
        return JudgeOutput.model_validate(_json_from(content))

    def grade(self, text: str, ctx: GradeContext) -> Grade:
        try:
            out = self.ask(text, ctx)
        except Exception as exc:  # timeout, connection, HTTP status, bad JSON, schema mismatch
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("judge grader failed (%s); grading this turn with %s", self.last_error, self.fallback.version)
            return self.fallback.grade(text, ctx)
        self.last_error = None
        named = out.named_emotion if out.named_emotion in _FAMILIES else None
        raw = Grade(grader_version=self.version, **out.model_dump(exclude={"named_emotion"}), named_emotion=named)
        return constrain(raw, ctx, courtesy=is_courtesy(text), plan=is_plan_or_summary(text))


_FAMILIES = {"fear", "sadness", "anger", "frustration", "shame", "guilt", "overwhelm", "loneliness", "relief", "calm"}

