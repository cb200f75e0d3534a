"""Explicit, one-step-at-a-time upgrades of exported JSONL lines to the current layout.

Every change to the export layout adds one function here that lifts a line from version
N to N+1. A line of any older version is passed through the chain in order, so each step
only has to know its two neighbours. Lines from a newer Bedside are refused, not guessed.

Version 0 is the flat layout of the pre-release prototype logs (see docs/evaluation.md):
different key names, grade fields inline, before/after pairs, epoch timestamps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from server.core.questions import question_type
from server.grading.base import ALL_FLAGS, ALL_NURSE
from server.store.records import SCHEMA_VERSION

log = logging.getLogger(__name__)

Line = dict[str, Any]


class LayoutError(ValueError):
    """A line whose layout version is unknown or newer than this Bedside."""


# Names the prototype used for things that were later renamed.
_V0_FLAG_NAMES = {"pity": "sympathy_only", "cut_off": "interrupted", "fake_understanding": "false_understanding",
                  "reassured_too_soon": "premature_reassurance", "changed_subject": "topic_switch"}


def _split(value: Any) -> list[str]:
    """v0 wrote lists either as JSON lists or as 'a;b;c' strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return [str(v) for v in value]


def _iso(epoch: float | int | str | None) -> str | None:
    if epoch is None or epoch == "":
        return None
    if isinstance(epoch, str):
        return epoch
    return datetime.fromtimestamp(float(epoch), UTC).isoformat()


def _v0_to_v1(line: Line) -> Line:
    text = line.get("student_said", "")
    flags = [_V0_FLAG_NAMES.get(f, f) for f in _split(line.get("issues"))]
    unknown = [f for f in flags if f not in ALL_FLAGS]
    if unknown:
        log.warning("v0 line %s/%s: dropping unknown flags %s", line.get("session"), line.get("n"), unknown)
    nurse = [n for n in _split(line.get("nurse_codes")) if n in ALL_NURSE]
    trust = line.get("trust") or [0.5, 0.5]
    distress = line.get("distress") or [0.5, 0.5]
    feeling = line.get("feeling") or "calm"
    grader = line.get("grader") or "unknown-v0"
    return {
        "schema_version": 1,
        "session_id": line["session"],
        "learner_id": line["user"],
        "persona_id": line["case"],
        "mode": "voice" if line.get("voice") else "text",
        "session_status": "ended",
        "session_started_at": _iso(line.get("started")),
        "turn": int(line["n"]),
        "learner": text,
        "act": line.get("dialogue_act") or "other",
        "grade": {
            "grader_version": grader,
            "eccs": line.get("eccs_level"),
            "nurse": nurse,
            "flags": [f for f in flags if f in ALL_FLAGS],
            # The prototype never recorded these; the question type is cheap to recover from the words.
            "question_type": question_type(text.lower().replace("’", "'").strip()),
        },
        "state_before": {"trust": trust[0], "distress": distress[0], "emotion": feeling},
        "state_after": {"trust": trust[-1], "distress": distress[-1], "emotion": feeling},
        "disclosed": _split(line.get("revealed")),
        "reply": line.get("patient_said", ""),
        "timings_ms": {},
        "grader_version": grader,
        "realiser": "template",
        "interrupted": bool(line.get("cut_off_reply", False)),
        "client_turn_id": None,
        "created_at": _iso(line.get("ts")),
    }


MIGRATIONS: dict[int, Callable[[Line], Line]] = {0: _v0_to_v1}
"""from-version -> function returning the line at from-version + 1."""


def line_version(line: Line) -> int:
    if "schema_version" in line:
        return int(line["schema_version"])
    if "log_version" in line:
        return int(line["log_version"])
    raise LayoutError("line has neither 'schema_version' nor 'log_version'; not a Bedside export")


def upgrade(line: Line) -> tuple[Line, int]:
    """The line in the current layout, and the version it was written in."""
    original = version = line_version(line)
    if version > SCHEMA_VERSION:
        raise LayoutError(f"line has schema_version {version}, newer than this Bedside ({SCHEMA_VERSION}); upgrade Bedside")
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise LayoutError(f"no migration from schema_version {version}")
        line = step(line)
        version += 1
    return line, original
