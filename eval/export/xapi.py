"""xAPI 1.0.3 statements so an LRS/LMS can ingest results: one per session (verb
`completed`) and one per graded learner turn (verb `responded`).

The learner is an account agent {homePage, name: learner_id}; each persona is an activity
under a configurable IRI base; the session id is the context registration, which is how
an LRS groups the statements of one attempt. Statement ids are name-based UUIDs, so
exporting the same session twice yields the same ids and an LRS will not double-count.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ..metrics.session import PASS_ECCS, SessionMetrics, TurnView

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
RESPONDED = "http://adlnet.gov/expapi/verbs/responded"
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
CARE_MIN, CARE_MAX = 10, 50
ECCS_MIN, ECCS_MAX = 0, 6


class XapiConfig(BaseModel):
    base: str = Field("https://bedside.example/xapi", description="IRI base for activities and extension keys.")
    home_page: str = Field("https://bedside.example", description="The account homePage that learner ids belong to.")
    language: str = "en-US"
    platform: str = "Bedside"

    def persona_iri(self, persona_id: str) -> str:
        return f"{self.base.rstrip('/')}/personas/{persona_id}"

    def ext(self, name: str) -> str:
        return f"{self.base.rstrip('/')}/extensions/{name}"

    def namespace(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, self.base)


def registration(session_id: str) -> str:
    """The session id when it is a UUID (store sessions always are), else a stable UUID made from it."""
    try:
        return str(uuid.UUID(session_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bedside-session:{session_id}"))


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def duration(seconds: float) -> str:
    """ISO 8601 duration, e.g. PT12M3.5S."""
    seconds = max(0.0, seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    out = "PT" + (f"{int(h)}H" if h else "") + (f"{int(m)}M" if m else "")
    return out + f"{round(s, 2):g}S"


def _score(raw: float, lo: float, hi: float) -> dict[str, float]:
    return {"scaled": round(raw / hi, 4), "raw": raw, "min": lo, "max": hi}


def _lang(cfg: XapiConfig, text: str) -> dict[str, str]:
    return {cfg.language: text}


def _actor(cfg: XapiConfig, m: SessionMetrics) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": cfg.home_page, "name": m.learner_id}}


def _persona(cfg: XapiConfig, m: SessionMetrics) -> dict[str, Any]:
    return {"objectType": "Activity", "id": cfg.persona_iri(m.persona_id), "definition": {
        "name": _lang(cfg, m.persona_title), "type": SIMULATION,
        "description": _lang(cfg, f"Bedside standardized patient persona '{m.persona_id}'")}}


def _context(cfg: XapiConfig, m: SessionMetrics, extra: dict[str, Any]) -> dict[str, Any]:
    return {"registration": registration(m.session_id), "platform": cfg.platform, "language": cfg.language,
            "extensions": {cfg.ext("session-id"): m.session_id, cfg.ext("mode"): m.mode, **extra}}


def _verb(iri: str, word: str) -> dict[str, Any]:
    return {"id": iri, "display": {"en-US": word}}


def session_statement(m: SessionMetrics, cfg: XapiConfig) -> dict[str, Any]:
    result: dict[str, Any] = {"completion": m.status == "ended", "extensions": {
        cfg.ext("mean-eccs"): m.mean_eccs, cfg.ext("eccs-pass-share"): m.eccs_pass_share,
        cfg.ext("missed-opportunities"): len(m.missed), cfg.ext("turns"): m.turns,
        cfg.ext("final-trust"): m.final_trust, cfg.ext("final-distress"): m.final_distress,
        cfg.ext("checklist-coverage"): m.coverage.checklist_coverage,
        cfg.ext("concerns-elicited"): [d.id for d in m.coverage.concerns if d.turn is not None],
        cfg.ext("open-question-share"): m.questions.open_share, cfg.ext("learner-talk-share"): m.talk.learner_share,
        cfg.ext("interruptions"): m.talk.interruptions + m.talk.barge_ins, cfg.ext("care-items"): m.care,
    }}
    if m.care_total is not None:
        result["score"] = _score(m.care_total, CARE_MIN, CARE_MAX)
    if m.mean_eccs is not None:
        result["success"] = m.mean_eccs >= PASS_ECCS
    end = m.ended_at or max((v.created_at for v in m.views if v.created_at), default=m.started_at)
    result["duration"] = duration((end - m.started_at).total_seconds())
    return {
        "id": str(uuid.uuid5(cfg.namespace(), f"{m.session_id}/session")),
        "actor": _actor(cfg, m), "verb": _verb(COMPLETED, "completed"), "object": _persona(cfg, m),
        "result": result, "context": _context(cfg, m, {}), "timestamp": iso(end),
    }


def turn_statement(m: SessionMetrics, v: TurnView, cfg: XapiConfig) -> dict[str, Any]:
    g = v.grade
    result: dict[str, Any] = {"response": v.learner_text, "extensions": {
        cfg.ext("eccs"): g.eccs, cfg.ext("nurse"): list(g.nurse), cfg.ext("flags"): list(g.flags),
        cfg.ext("epitome"): g.epitome.model_dump(), cfg.ext("space"): g.space, cfg.ext("question-type"): g.question_type,
        cfg.ext("named-emotion"): g.named_emotion, cfg.ext("empathic-accuracy"): g.empathic_accuracy,
        cfg.ext("feedback"): g.feedback, cfg.ext("grader-version"): g.grader_version,
        cfg.ext("trust-after"): v.trust, cfg.ext("distress-after"): v.distress,
    }}
    if g.eccs is not None:
        result["score"] = _score(g.eccs, ECCS_MIN, ECCS_MAX)
        result["success"] = g.eccs >= PASS_ECCS
    extra = {cfg.ext("turn"): v.turn}
    if v.opportunity:
        extra[cfg.ext("opportunity")] = v.opportunity
    return {
        "id": str(uuid.uuid5(cfg.namespace(), f"{m.session_id}/turn/{v.turn}")),
        "actor": _actor(cfg, m), "verb": _verb(RESPONDED, "responded"), "object": _persona(cfg, m),
        "result": result, "context": _context(cfg, m, extra), "timestamp": iso(v.created_at or m.started_at),
    }


def statements(ms: list[SessionMetrics], cfg: XapiConfig | None = None) -> list[dict[str, Any]]:
    """Per session: its turn statements in order, then the session statement."""
    cfg = cfg or XapiConfig()
    out: list[dict[str, Any]] = []
    for m in ms:
        out.extend(turn_statement(m, v, cfg) for v in m.views)
        out.append(session_statement(m, cfg))
    return out




def checked_statements(ms: list[SessionMetrics], cfg: XapiConfig | None = None) -> list[dict[str, Any]]:
    """`statements`, refused with a ValueError naming the first problems if any would not pass
    the xAPI checker (an LRS would reject them)."""
    from .xapi_check import check_statements

    out = statements(ms, cfg)
    problems = check_statements(out)
    if problems:
        raise ValueError("invalid xAPI statements:\n  " + "\n  ".join(problems[:20]))
    return out
