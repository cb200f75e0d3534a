"""Two CSV tables: one row per learner turn, one row per session.

Each column is declared once with its description; docs/evaluation.md lists the same
names (a test keeps the two in step). Lists are joined with ';', booleans are 0/1, and a
missing value is an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, NamedTuple

from server.engine.summary import CARE_ITEMS
from server.grading.base import ALL_FLAGS, ALL_NURSE

from ..metrics.session import PASS_ECCS, SessionMetrics
from ..metrics.talk import words


class Column(NamedTuple):
    name: str
    doc: str
    get: Callable[..., Any]


def _b(v: bool | None) -> int | str:
    return "" if v is None else int(bool(v))


def _j(items: Iterable[str]) -> str:
    return ";".join(items)


def care_column(item: str) -> str:
    return "care_" + re.sub(r"[^a-z]+", "_", item.lower()).strip("_")


TURN_COLUMNS: list[Column] = [
    Column("session_id", "session UUID", lambda m, v: m.session_id),
    Column("learner_id", "learner pseudonym", lambda m, v: m.learner_id),
    Column("persona_id", "persona pack id", lambda m, v: m.persona_id),
    Column("mode", "text or voice", lambda m, v: m.mode),
    Column("session_started_at", "session start, ISO 8601 UTC", lambda m, v: m.started_at.isoformat()),
    Column("turn", "learner turn number, 1-based", lambda m, v: v.turn),
    Column("learner_text", "what the learner said", lambda m, v: v.learner_text),
    Column("act", "dialogue act of the learner turn", lambda m, v: v.act),
    Column("question_type", "open, closed or none", lambda m, v: v.grade.question_type),
    Column("answering_opportunity", "id of the empathic opportunity held by the patient's previous turn, if any",
           lambda m, v: v.opportunity or ""),
    Column("eccs", "ECCS level 0-6; empty when there was no opportunity to answer", lambda m, v: _none(v.grade.eccs)),
    Column("eccs_pass", f"1 if ECCS >= {PASS_ECCS} (the feeling was acknowledged), 0 if below, empty if no ECCS",
           lambda m, v: "" if v.grade.eccs is None else int(v.grade.eccs >= PASS_ECCS)),
    Column("nurse", "NURSE statement types, ';'-joined", lambda m, v: _j(v.grade.nurse)),
    *[Column(f"nurse_{n}", f"1 if the turn has a NURSE '{n}' statement", (lambda n: lambda m, v: int(n in v.grade.nurse))(n))
      for n in ALL_NURSE],
    Column("flags", "problem flags, ';'-joined", lambda m, v: _j(v.grade.flags)),
    *[Column(f"flag_{f}", f"1 if the '{f}' flag was raised", (lambda f: lambda m, v: int(f in v.grade.flags))(f))
      for f in ALL_FLAGS],
    Column("epitome_emotional_reactions", "EPITOME emotional reactions 0-2", lambda m, v: v.grade.epitome.emotional_reactions),
    Column("epitome_interpretations", "EPITOME interpretations 0-2", lambda m, v: v.grade.epitome.interpretations),
    Column("epitome_explorations", "EPITOME explorations 0-2", lambda m, v: v.grade.epitome.explorations),
    Column("space", "VR-CoDES: provides, reduces or neutral", lambda m, v: v.grade.space),
    Column("named_emotion", "emotion family the learner named, if any", lambda m, v: v.grade.named_emotion or ""),
    Column("empathic_accuracy", "1/0 whether the named emotion matched; empty if none named",
           lambda m, v: _b(v.grade.empathic_accuracy)),
    Column("feedback", "the feedback sentence shown to the learner", lambda m, v: v.grade.feedback),
    Column("grader_version", "grader that produced the grade", lambda m, v: v.grade.grader_version),
    Column("trust_after", "patient trust after the turn, 0-1", lambda m, v: v.trust),
    Column("distress_after", "patient distress after the turn, 0-1", lambda m, v: v.distress),
    Column("emotion_after", "patient emotion after the turn", lambda m, v: v.emotion),
    Column("disclosed", "fact and concern ids first revealed by the reply, ';'-joined", lambda m, v: _j(v.disclosed)),
    Column("learner_words", "words in the learner turn", lambda m, v: words(v.learner_text)),
    Column("patient_words", "words in the patient reply", lambda m, v: words(v.reply)),
    Column("learner_speech_s", "learner speech in seconds (measured for voice, else estimated)", lambda m, v: v.learner_s),
    Column("patient_speech_s", "patient reply speech in seconds (measured if stored, else estimated)", lambda m, v: v.patient_s),
    Column("barged_in", "1 if the learner started speaking over the patient", lambda m, v: int(v.barged_in)),
    Column("reply_interrupted", "1 if the learner cut this patient reply short", lambda m, v: int(v.interrupted)),
    Column("reply", "what the patient said", lambda m, v: v.reply),
]

SESSION_COLUMNS: list[Column] = [
    Column("session_id", "session UUID", lambda m: m.session_id),
    Column("learner_id", "learner pseudonym", lambda m: m.learner_id),
    Column("persona_id", "persona pack id", lambda m: m.persona_id),
    Column("mode", "text or voice", lambda m: m.mode),
    Column("status", "active, ended, or abandoned (not ended and no turn for BEDSIDE_ABANDON_AFTER_MIN)", lambda m: m.status),
    Column("started_at", "session start, ISO 8601 UTC", lambda m: m.started_at.isoformat()),
    Column("ended_at", "session end, ISO 8601 UTC; empty if still active", lambda m: m.ended_at.isoformat() if m.ended_at else ""),
    Column("turns", "learner turns", lambda m: m.turns),
    Column("opportunities", "turns graded on ECCS (answering an empathic opportunity)", lambda m: m.opportunities),
    Column("mean_eccs", "mean ECCS over those turns", lambda m: _none(m.mean_eccs)),
    Column("eccs_pass_share", f"share of those turns at ECCS >= {PASS_ECCS}", lambda m: _none(m.eccs_pass_share)),
    Column("missed_opportunities", "turns at ECCS <= 2 (missed empathic opportunities)", lambda m: len(m.missed)),
    Column("initial_trust", "patient trust before the first turn", lambda m: _none(m.initial_trust)),
    Column("final_trust", "patient trust after the last turn", lambda m: _none(m.final_trust)),
    Column("initial_distress", "patient distress before the first turn", lambda m: _none(m.initial_distress)),
    Column("final_distress", "patient distress after the last turn", lambda m: _none(m.final_distress)),
    Column("final_emotion", "patient emotion after the last turn", lambda m: m.final_emotion or ""),
    Column("open_questions", "turns asking an open question", lambda m: m.questions.open),
    Column("closed_questions", "turns asking a closed question", lambda m: m.questions.closed),
    Column("open_share", "open / (open + closed)", lambda m: _none(m.questions.open_share)),
    Column("learner_speech_s", "learner speech, seconds", lambda m: m.talk.learner_s),
    Column("patient_speech_s", "patient speech, seconds", lambda m: m.talk.patient_s),
    Column("learner_talk_share", "learner / (learner + patient) speech", lambda m: _none(m.talk.learner_share)),
    Column("talk_measured", "1 if both sides' speech was measured, 0 if any of it is estimated from words",
           lambda m: int(m.talk.learner_measured and m.talk.patient_measured)),
    Column("interruptions", "patient replies the learner cut short", lambda m: m.talk.interruptions),
    Column("barge_ins", "learner turns started over the patient", lambda m: m.talk.barge_ins),
    Column("facts_elicited", "pack facts revealed", lambda m: sum(d.turn is not None for d in m.coverage.facts)),
    Column("facts_total", "pack facts", lambda m: len(m.coverage.facts)),
    Column("concerns_elicited", "hidden concerns revealed", lambda m: sum(d.turn is not None for d in m.coverage.concerns)),
    Column("concerns_total", "hidden concerns in the pack", lambda m: len(m.coverage.concerns)),
    Column("concerns_elicited_ids", "hidden concern ids revealed, with the turn, e.g. fear_x@7", lambda m: _j(
        f"{d.id}@{d.turn}" for d in m.coverage.concerns if d.turn is not None)),
    Column("checklist_done", "history checklist items completed", lambda m: sum(r.done for r in m.coverage.checklist)),
    Column("checklist_total", "history checklist items", lambda m: len(m.coverage.checklist)),
    Column("checklist_coverage", "checklist_done / checklist_total", lambda m: _none(m.coverage.checklist_coverage)),
    Column("care_total", "CARE-style rating, 10-50", lambda m: _none(m.care_total)),
    *[Column(care_column(item), f"CARE item '{item}', 1-5", (lambda item: lambda m: _none(m.care.get(item)))(item))
      for item in CARE_ITEMS],
    *[Column(f"nurse_{n}", f"turns with a NURSE '{n}' statement", (lambda n: lambda m: m.nurse_counts.get(n, 0))(n))
      for n in ALL_NURSE],
    *[Column(f"flag_{f}", f"turns flagged '{f}'", (lambda f: lambda m: m.flag_counts.get(f, 0))(f)) for f in ALL_FLAGS],
    Column("grader_versions", "graders behind the stored grades, ';'-joined", lambda m: _j(m.grader_versions)),
    Column("source_schema_version", "layout version the session was read from (0 = prototype logs)",
           lambda m: m.schema_version),
]


def _none(v: Any) -> Any:
    return "" if v is None else v


def turn_rows(ms: Iterable[SessionMetrics]) -> Iterable[list[Any]]:
    for m in ms:
        for v in m.views:
            yield [c.get(m, v) for c in TURN_COLUMNS]


def session_rows(ms: Iterable[SessionMetrics]) -> Iterable[list[Any]]:
    for m in ms:
        yield [c.get(m) for c in SESSION_COLUMNS]


# A cell a spreadsheet would read as a formula (OWASP, CSV injection): learner text such as
# '=HYPERLINK("http://...")' must arrive as text, never as a live formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """Text that starts like a formula, prefixed with a single quote (shown as text, not run);
    numbers and everything else unchanged. Only the CSV tables do this: xAPI and JSONL keep the
    words as they were said."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def write_rows(fh: IO[str], columns: list[Column], rows: Iterable[list[Any]]) -> int:
    """The header and `rows` as CSV into `fh` (opened with newline=""); returns the row count."""
    w = csv.writer(fh)
    w.writerow([c.name for c in columns])
    n = 0
    for row in rows:
        w.writerow([spreadsheet_safe(cell) for cell in row])
        n += 1
    return n


def write_csv(path: Path, columns: list[Column], rows: Iterable[list[Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        return write_rows(fh, columns, rows)


def csv_text(columns: list[Column], rows: Iterable[list[Any]]) -> str:
    """The same table as one string, for a download."""
    out = io.StringIO(newline="")
    write_rows(out, columns, rows)
    return out.getvalue()


def write_tables(ms: list[SessionMetrics], out_dir: Path) -> dict[str, Path]:
    """turns.csv and sessions.csv in `out_dir`."""
    turns, sessions = out_dir / "turns.csv", out_dir / "sessions.csv"
    write_csv(turns, TURN_COLUMNS, turn_rows(ms))
    write_csv(sessions, SESSION_COLUMNS, session_rows(ms))
    return {"turns": turns, "sessions": sessions}


def columns_markdown(columns: list[Column]) -> str:
    """The docs table for a column list (how docs/evaluation.md was written)."""
    return "\n".join(["| column | meaning |", "|---|---|", *(f"| `{c.name}` | {c.doc} |" for c in columns)])
