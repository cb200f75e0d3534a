"""`bedside session list|export|delete`: the store without running the server.

SQLite's WAL mode lets these run while the server is writing.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from ..config import Settings
from .base import SessionStore
from .export import export_lines, write_jsonl
from .purge import DeleteLearner, delete_learner_data
from .records import SessionFilter, SessionRecord
from .sql import open_store
from .status import read_status

COLUMNS = ("id", "learner", "persona", "mode", "turns", "started", "status")


def _row(s: SessionRecord, abandon_after: timedelta | None) -> tuple[str, ...]:
    return (s.id, s.learner_id, s.persona_id, s.mode, str(s.turn_count),
            s.created_at.strftime("%Y-%m-%d %H:%M:%SZ"), read_status(s.status, s.created_at, s.last_turn_at, abandon_after))


def format_table(sessions: list[SessionRecord], abandon_after: timedelta | None = None) -> str:
    """`abandon_after`: active sessions idle that long are listed as abandoned (status.py)."""
    rows = [COLUMNS] + [_row(s, abandon_after) for s in sessions]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def _missing_sqlite_file(url: str) -> str | None:
    """Reading must not create an empty database in a mistyped data directory."""
    parsed = make_url(url)
    db = parsed.database
    if parsed.get_backend_name() == "sqlite" and db and db != ":memory:" and not Path(db).exists():
        return db
    return None


def _confirmed(n: int, learner: str, yes: bool) -> bool | None:
    """True to go ahead, False if the person said no, None if nobody can be asked."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return None
    if n == 0:
        return True
    answer = input(f"Delete {n} session(s) of learner {learner!r} with their turns, grades and audio? "
                   "This cannot be undone. [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def delete_learner_command(args, store: SessionStore, settings: Settings) -> int:
    try:
        learner = DeleteLearner(learner_id=args.learner).learner_id
    except ValidationError as exc:
        print(f"error: --learner {args.learner!r}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    n = len(store.list_sessions(SessionFilter(learner_id=learner)))
    ok = _confirmed(n, learner, args.yes)
    if ok is None:
        print("error: refusing to delete without confirmation: stdin is not a terminal; pass --yes", file=sys.stderr)
        return 2
    if not ok:
        print("nothing deleted", file=sys.stderr)
        return 1
    done = delete_learner_data(store, learner, settings.data_dir)
    if done.sessions == 0:
        print(f"no sessions for learner {learner!r} (ids are exact; `bedside session list` shows them)", file=sys.stderr)
    print(f"deleted {done.sessions} session(s) of learner {learner!r}: {done.turns} turn(s) with their grades, "
          f"{done.audio_files} audio file(s)")
    return 0


def run_session_command(args, settings: Settings) -> int:
    url = settings.resolved_database_url()
    missing = _missing_sqlite_file(url)
    if missing:
        print(f"error: no database at {missing}; pass the server's --data-dir or --database-url", file=sys.stderr)
        return 2
    store = open_store(url)
    try:
        if args.session_command == "delete":
            return delete_learner_command(args, store, settings)
        if args.session_command == "list":
            sessions = store.list_sessions()
            print(format_table(sessions, settings.abandon_after))
            print(f"{len(sessions)} session(s)", file=sys.stderr)
            return 0
        if args.session_command == "export":
            if args.session_id:
                one = store.get_session(args.session_id)
                if one is None:
                    print(f"error: no session '{args.session_id}'; `bedside session list` shows the ids", file=sys.stderr)
                    return 2
                sessions = [one]
            else:
                sessions = store.list_sessions()
            lines = export_lines(store, sessions, settings.abandon_after)
            if args.out:
                out_path = Path(args.out)
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with out_path.open("w", encoding="utf-8") as fh:
                    n = write_jsonl(lines, fh)
                print(f"wrote {n} turn(s) from {len(sessions)} session(s) to {out_path}", file=sys.stderr)
            else:
                try:
                    n = write_jsonl(lines, sys.stdout)
                    sys.stdout.flush()
                except BrokenPipeError:  # e.g. `| head`: the reader has all it wants
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    return 0
                print(f"{n} turn(s) from {len(sessions)} session(s)", file=sys.stderr)
            return 0
        return 2
    finally:
        store.close()
