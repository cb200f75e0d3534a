"""Research export: one JSON object per stored turn (JSON Lines).

Each line carries the `bedside chat --json` turn keys (server.chat.turn_json) plus the
session fields needed to analyse it on its own; docs/export.md lists every column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import IO, Any

from ..chat import turn_json
from .base import SessionStore
from .branches import branch_of, is_rewound, retry_of
from .records import SCHEMA_VERSION, SessionRecord, TurnRecord
from .status import read_status


def turn_line(session: SessionRecord, turn: TurnRecord, status: str | None = None) -> dict[str, Any]:
    """`status` is the session's status as read (status.py); default, as stored."""
    line: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "session_id": session.id,
        "learner_id": session.learner_id,
        "persona_id": session.persona_id,
        "pack_version": session.initial_state.pack_version,
        "mode": session.mode,
        "session_status": status or session.status,
        "session_started_at": session.created_at.isoformat(),
    }
    line.update(turn_json(turn.to_turn_result()))
    line.update({
        "grader_version": turn.grader_version,
        "realiser": turn.realiser,
        "fallback_reason": turn.fallback_reason,
        "rejected_reply": turn.rejected_reply,
        "interrupted": turn.interrupted,
        "client_turn_id": turn.client_turn_id,
        "created_at": turn.created_at.isoformat(),
        # "Try that again" (server/store/branches.py): a taken-back turn and the turn that retried it
        "branch": branch.model_dump() if (branch := branch_of(turn)) else None,
        "retry_of": retry_of(turn),
        "lived": not is_rewound(turn),
    })
    return line


def export_lines(store: SessionStore, sessions: Iterable[SessionRecord],
                 abandon_after: timedelta | None = None) -> Iterator[dict[str, Any]]:
    """Every turn of `sessions`; with `abandon_after`, `session_status` says which were abandoned."""
    for session in sessions:
        status = read_status(session.status, session.created_at, session.last_turn_at, abandon_after)
        for turn in store.turns(session.id):
            yield turn_line(session, turn, status)


def write_jsonl(lines: Iterable[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        n += 1
    return n
