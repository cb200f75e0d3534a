"""The session store on real engine turns: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.chat import SCRIPT_KEYS
from server.cli import main as bedside
from server.engine.summary import summarise
from server.store.base import SessionStore, TurnConflict
from server.store.records import SCHEMA_VERSION, SessionFilter
from server.store.sql import SessionEnded, open_store

LINES = ["Hello, I'm Dr Patel. What brings you in today?", "That sounds really frightening.",
         "Can you tell me more about what worries you most?"]


def play(engine, store: SessionStore, persona: str, learner: str, lines=LINES, token="tok-123"):
    """Start a session and store one real turn per line; returns (session, results, final state)."""
    state, opening = engine.start(persona)
    session = store.create_session(learner_id=learner, persona_id=persona, mode="text", token=token,
                                   opening=opening, initial_state=state)
    results = []
    for i, line in enumerate(lines, 1):
        result, state = engine.respond(state, line)
        stored = store.append_turn(session.id, result, state,
                                   extra={"client_turn_id": f"c{i}", "plan": result.plan.model_dump(mode="json")})
        assert stored.turn_index == i
        results.append((result, state))
    return session, results, state


def roundtrip(engine, store: SessionStore) -> None:
    learner = f"learner-{uuid.uuid4().hex[:8]}"
    session, results, final = play(engine, store, "demo", learner)
    assert session.status == "active" and session.schema_version == SCHEMA_VERSION
    assert store.latest_state(session.id) == final

    stored = store.turns(session.id)
    assert [t.turn_index for t in stored] == [1, 2, 3]
    for rec, (result, state) in zip(stored, results):
        assert rec.learner_text == result.learner_text and rec.reply == result.reply
        assert rec.grade == result.grade and rec.grader_version == result.grade.grader_version
        assert rec.state_before == result.state_before and rec.state_after == result.state_after
        assert rec.session_state == state and rec.act == result.act.value
        assert rec.schema_version == SCHEMA_VERSION and rec.created_at.tzinfo is not None
        assert rec.to_turn_result().model_dump() == result.model_dump()

    # Idempotent: the same turn again is not written twice; other words for it are a conflict.
    result, state = results[1]
    again = store.append_turn(session.id, result, state)
    assert again.turn_index == 2 and again.reply == result.reply
    with pytest.raises(TurnConflict):
        store.append_turn(session.id, result.model_copy(update={"learner_text": "something else"}), state)
    assert len(store.turns(session.id)) == 3
    assert store.find_client_turn(session.id, "c2").turn_index == 2
    assert store.find_client_turn(session.id, "nope") is None

    # Only the token's hash is kept.
    got = store.get_session(session.id)
    assert got.token_hash == hashlib.sha256(b"tok-123").hexdigest()
    assert "tok-123" not in json.dumps(got.model_dump(mode="json"))

    # Ending stores the summary once.
    pack = engine.pack("demo")
    summary = summarise(pack, final, [t.to_turn_result() for t in stored], session.opening)
    ended = store.end_session(session.id, summary.model_dump(mode="json"), final)
    assert ended.status == "ended" and ended.ended_at is not None and ended.turn_count == 3
    assert ended.summary["turns"] == 3 and ended.final_state == final
    store.end_session(session.id, {"turns": 99}, final)
    assert store.get_session(session.id).summary["turns"] == 3
    with pytest.raises(SessionEnded):
        store.append_turn(session.id, results[2][0].model_copy(update={"turn_index": 4}), final)

    # A session with no turns resumes from its initial state.
    other, _, _ = play(engine, store, "demo", learner + "-b", lines=[])
    assert store.latest_state(other.id).turn_index == 0

    # Filters.
    mine = store.list_sessions(SessionFilter(learner_id=learner))
    assert [s.id for s in mine] == [session.id] and mine[0].turn_count == 3
    assert {s.id for s in store.list_sessions(SessionFilter(persona_id="demo"))} >= {session.id, other.id}
    assert store.list_sessions(SessionFilter(persona_id="no-such-persona")) == []
    later = datetime.now(UTC) + timedelta(hours=1)
    assert store.list_sessions(SessionFilter(learner_id=learner, since=later)) == []
    assert store.list_sessions(SessionFilter(learner_id=learner, until=later))[0].id == session.id
    assert store.list_sessions(SessionFilter(learner_id=learner, until=session.created_at - timedelta(seconds=1))) == []
    assert store.get_session(str(uuid.uuid4())) is None


def test_sqlite_roundtrip(engine, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'bedside.db'}")
    try:
        roundtrip(engine, store)
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            dupes = conn.execute(text("SELECT session_id, turn_index, COUNT(*) FROM turns "
                                      "GROUP BY session_id, turn_index HAVING COUNT(*) > 1")).all()
            assert dupes == []
    finally:
        store.close()


def test_unique_constraint_is_in_the_database(engine, tmp_path):
    """Even a raw INSERT of an existing (session, turn) is refused by the schema itself."""
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        session, _, _ = play(engine, store, "demo", "u", lines=LINES[:1])
        with pytest.raises(Exception, match="UNIQUE"):
            with store.engine.begin() as conn:
                conn.execute(text("INSERT INTO turns (session_id, turn_index, learner_text, act, grade, grader_version, "
                                  "state_before, state_after, disclosed, reply, realiser, timings, interrupted, created_at, "
                                  "session_state, extra, schema_version) SELECT session_id, turn_index, learner_text, act, "
                                  "grade, grader_version, state_before, state_after, disclosed, reply, realiser, timings, "
                                  "interrupted, created_at, session_state, extra, schema_version FROM turns"))
        assert len(store.turns(session.id)) == 1
    finally:
        store.close()


def test_postgres_roundtrip(engine, pg_url):
    store = open_store(pg_url)
    try:
        assert store.engine.dialect.name == "postgresql"
        roundtrip(engine, store)
    finally:
        store.close()


def test_session_cli_list_and_export(engine, tmp_path, capsys):
    store = open_store(f"sqlite:///{tmp_path / 'bedside.db'}")
    session, results, _ = play(engine, store, "demo", "alice")
    store.close()

    assert bedside(["session", "list", "--data-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["id", "learner", "persona", "mode", "turns", "started", "status"]
    row = next(line for line in table if line.startswith(session.id)).split()
    assert row[1:5] == ["alice", "demo", "text", "3"] and row[-1] == "active"

    out = tmp_path / "export" / "turns.jsonl"
    assert bedside(["session", "export", "--format", "jsonl", "--session", session.id, "--out", str(out),
                    "--data-dir", str(tmp_path)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 3
    for line, (result, _) in zip(lines, results):
        assert line["schema_version"] == SCHEMA_VERSION
        assert line["session_id"] == session.id and line["learner_id"] == "alice" and line["persona_id"] == "demo"
        assert set(SCRIPT_KEYS) <= set(line)
        assert line["turn"] == result.turn_index and line["reply"] == result.reply
        assert line["grade"] == result.grade.model_dump(mode="json") and line["client_turn_id"] == f"c{result.turn_index}"

    capsys.readouterr()
    assert bedside(["session", "export", "--data-dir", str(tmp_path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert bedside(["session", "export", "--session", "missing", "--data-dir", str(tmp_path)]) == 2
    empty = tmp_path / "no-such-dir"
    assert bedside(["session", "list", "--data-dir", str(empty)]) == 2
    assert "no database" in capsys.readouterr().err and not empty.exists()


def test_a_new_sqlite_database_is_private(engine, tmp_path):
    """Issue 16: transcripts are health data; the database (and SQLite's -wal beside it) is created
    readable by its owner only, in a folder of mode 700."""
    import stat

    folder = tmp_path / "fresh" / "data"
    store = open_store(f"sqlite:///{folder / 'bedside.db'}")
    state, opening = engine.start("chest-pain-anxiety")
    rec = store.create_session(learner_id="p", persona_id="chest-pain-anxiety", mode="text", token="t",
                               opening=opening, initial_state=state)
    assert rec.id
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    assert mode(folder / "bedside.db") == 0o600 and mode(folder) == 0o700
    wal = folder / "bedside.db-wal"
    assert not wal.exists() or mode(wal) == 0o600
