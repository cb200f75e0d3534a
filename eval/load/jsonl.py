"""Sessions from JSONL exports (`bedside session export`), of any schema version."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..records import EvalSession, EvalTurn
from .migrate import LayoutError, upgrade


def read_lines(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            if raw.strip():
                try:
                    yield n, json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise LayoutError(f"{path}:{n}: not JSON ({exc.msg})") from None


def turn_from_line(line: dict[str, Any]) -> EvalTurn:
    """One current-layout line to a turn. Optional keys beyond the export (plan, voice,
    barged_in) are honoured when a richer dump provides them."""
    grade = line["grade"]
    voice = line.get("voice") or {}
    plan = line.get("plan") or {}
    return EvalTurn(
        turn=line["turn"], learner_text=line["learner"], act=line.get("act") or "other", grade=grade,
        grader_version=line.get("grader_version") or grade.get("grader_version", "unknown"),
        state_before=line["state_before"], state_after=line["state_after"], disclosed=line.get("disclosed") or [],
        reply=line.get("reply", ""), created_at=line.get("created_at"), interrupted=bool(line.get("interrupted")),
        barged_in=bool(line.get("barged_in", "interrupted" in (grade.get("flags") or []))),
        opportunity=plan.get("opportunity") or line.get("opportunity"),
        learner_audio_s=voice.get("audio_duration_s"), patient_audio_s=voice.get("patient_audio_s"),
        timings_ms=line.get("timings_ms") or {}, lived=line.get("lived", True) is not False,
    )


def load_jsonl(paths: Iterable[Path]) -> list[EvalSession]:
    """Group lines into sessions (a session may span files), turns in order."""
    heads: dict[str, dict[str, Any]] = {}
    turns: dict[str, dict[int, EvalTurn]] = {}
    for path in paths:
        for n, raw in read_lines(Path(path)):
            try:
                line, version = upgrade(raw)
                turn = turn_from_line(line)
            except (LayoutError, KeyError, ValueError) as exc:
                raise LayoutError(f"{path}:{n}: {exc}") from None
            sid = line["session_id"]
            head = heads.setdefault(sid, {**line, "_version": version})
            head["_version"] = min(head["_version"], version)
            turns.setdefault(sid, {})[turn.turn] = turn
    sessions = []
    for sid, head in heads.items():
        ordered = [turns[sid][k] for k in sorted(turns[sid])]
        started = head.get("session_started_at") or (ordered[0].created_at if ordered else None)
        ended = max((t.created_at for t in ordered if t.created_at), default=None)
        sessions.append(EvalSession(
            id=sid, learner_id=head["learner_id"], persona_id=head["persona_id"], mode=head.get("mode") or "text",
            status=head.get("session_status") or "ended", started_at=started or datetime.fromtimestamp(0),
            ended_at=ended if head.get("session_status", "ended") == "ended" else None,
            opening=head.get("opening"), interruptions=sum(t.interrupted for t in ordered),
            schema_version=head["_version"], turns=ordered,
        ))
    sessions.sort(key=lambda s: (s.started_at, s.id))
    return sessions
