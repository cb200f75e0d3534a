"""Issue 16 (items 6-7): secrets stay out of output, private files stay private, and a
learner's data can be deleted. Each test names the leak or loss it guards against."""

from __future__ import annotations

import io
import json
import os
import stat

import numpy as np
import pytest
from sqlalchemy import func, select

from server.api.educator import TOKEN_FILE, announce_token, ensure_educator_token, token_path
from server.api.launch import ServerProcess
from server.cli import main as bedside
from server.config import Settings
from server.redact import redact_url
from server.store.sql import open_store
from server.store.tables import TurnRow

SECRET = "s3cret-Pw"
PW_URL = f"postgresql+psycopg://bedside:{SECRET}@db.invalid:5432/bedside"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class Terminal(io.StringIO):
    """A stream that says it is an interactive terminal (stdout, or stdin for a prompt)."""

    def isatty(self) -> bool:
        return True


# -- redaction ------------------------------------------------------------------------------

@pytest.mark.parametrize("url,shown", [
    (PW_URL, "postgresql+psycopg://bedside:***@db.invalid:5432/bedside"),
    ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u@h/db?sslmode=require&password=zz", "postgresql://u@h/db?password=***&sslmode=require"),
    ("not a url://u:hunter2@h/db", "not a url://u:***@h/db"),  # unparsable: still no password
    ("postgresql://u:hunter2@h:port/db", "postgresql://u:***@h:port/db"),  # a port that is no number: the same
])
def test_redact_url_hides_the_password(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize("url", ["sqlite:////tmp/data dir/bedside.db", "sqlite:///relative.db",
                                 "postgresql+psycopg://bedside@db/bedside?sslmode=require", "sqlite://"])
def test_redact_url_leaves_a_url_without_password_unchanged(url):
    assert redact_url(url) == url


def test_eval_and_simulate_never_show_the_database_password(engine, persona_dir, tmp_path, monkeypatch, capsys):
    """`bedside simulate`, `bedside eval cohort` (page footer and messages) and `bedside eval regrade`
    (HTML and JSON) given a PostgreSQL URL with a password. The connection is swapped for a SQLite
    file, after checking that the URL used to connect still carries the password."""
    import eval.load.readonly
    import server.engine.factory
    import server.store.sql

    db = f"sqlite:///{tmp_path / 'bedside.db'}"
    real_open = server.store.sql.open_store

    def connect(url: str):
        assert url == PW_URL  # redaction never touches the URL used to connect
        return real_open(db)

    monkeypatch.setattr(server.store.sql, "open_store", connect)
    monkeypatch.setattr(eval.load.readonly, "open_store", connect)
    monkeypatch.setattr(server.engine.factory, "build_engine", lambda settings: engine)
    common = ["--database-url", PW_URL, "--persona-dir", str(persona_dir)]

    assert bedside(["simulate", *common, "--persona", "chest-pain-anxiety", "--learner-style", "empathic",
                    "--learner-id", "sim-red", "--no-progress"]) == 0
    cohort = tmp_path / "cohort.html"
    assert bedside(["eval", "cohort", *common, "--out", str(cohort), "--no-progress"]) == 0
    assert bedside(["eval", "regrade", *common, "--grader", "rules", "--out", str(tmp_path / "rg"), "--no-progress"]) == 0
    assert bedside(["eval", "cohort", *common, "--learner", "nobody", "--out", str(tmp_path / "x.html")]) == 1
    out = capsys.readouterr()
    printed = out.out + out.err
    assert "stored 1 simulated" in printed and "no sessions match in postgresql+psycopg://bedside:***@db.invalid" in printed
    footers = [cohort.read_text(), (tmp_path / "rg" / "regrade.html").read_text()]
    assert all("Source: postgresql+psycopg://bedside:***@db.invalid:5432/bedside." in page for page in footers)
    assert json.loads((tmp_path / "rg" / "regrade.json").read_text())["source"] == redact_url(PW_URL)
    written = [cohort.read_text(), *(p.read_text() for p in (tmp_path / "rg").iterdir())]
    assert SECRET not in printed and not any(SECRET in text for text in written)


# -- secret settings --------------------------------------------------------------------------

def test_secret_settings_never_appear_in_repr():
    s = Settings(openai_api_key="sk-openai-111", realiser_openai_api_key="sk-realiser-222",
                 educator_token="edu-333", database_url=PW_URL)
    for text in (repr(s), str(s), s.model_dump_json()):
        assert not any(key in text for key in ("sk-openai-111", "sk-realiser-222", "edu-333"))
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.model_dump_json()
    assert "bedside:***@db.invalid" in repr(s) and "bedside:***@db.invalid" in s.model_dump_json()
    assert s.database_url == PW_URL and s.resolved_database_url() == PW_URL  # what connects is unchanged
    # CLI flags go through with_overrides (model_dump + validate): still secret, still usable.
    again = s.with_overrides(grader="rules", educator_token="edu-444")
    assert "edu-444" not in repr(again) and again.openai_api_key.get_secret_value() == "sk-openai-111"
    assert again.resolved_database_url() == PW_URL


def test_secret_settings_reach_the_places_that_send_them(tmp_path):
    """Each reader unwraps the SecretStr where it is used; a forgotten one would send '**********'."""
    from server.realise.openai_backend import OpenAIRealiser
    from server.speech.asr.factory import build_transcriber, clear_transcriber_cache

    s = Settings(data_dir=tmp_path, openai_base_url="http://127.0.0.1:9/v1", openai_api_key="sk-openai-111",
                 educator_token="edu-333", asr_backend="openai")
    assert OpenAIRealiser.from_settings(s)._headers()["Authorization"] == "Bearer sk-openai-111"
    s2 = s.with_overrides(realiser_openai_api_key="sk-realiser-222")
    assert OpenAIRealiser.from_settings(s2)._headers()["Authorization"] == "Bearer sk-realiser-222"
    try:
        client = build_transcriber(s)
        assert client._client.headers["Authorization"] == "Bearer sk-openai-111"
    finally:
        clear_transcriber_cache()
    assert ensure_educator_token(s) == ("edu-333", False)
    assert not token_path(s).exists()


# -- the educator token -------------------------------------------------------------------------

def test_token_is_printed_only_on_a_terminal(tmp_path):
    path = tmp_path / TOKEN_FILE
    piped, tty = io.StringIO(), Terminal()
    announce_token("tok-secret-1", path, piped)
    announce_token("tok-secret-1", path, tty)
    assert "tok-secret-1" not in piped.getvalue()
    assert piped.getvalue().strip() == f"educator token saved to {path}"
    assert "tok-secret-1" in tty.getvalue()


def test_launcher_reads_the_token_from_the_file_the_notice_names(tmp_path):
    """Tests and benchmarks start servers on a pipe: printed_token() follows the notice to the file."""
    path = tmp_path / TOKEN_FILE
    path.write_text("tok-from-file\n")
    server = ServerProcess(tmp_path, tmp_path, port=1)
    server.lines = ["INFO something", f"educator token saved to {path}"]
    assert server.printed_token() == "tok-from-file"
    server.lines = [f"EDUCATOR TOKEN (shown once; also saved to {path}): tok-on-tty"]
    assert server.printed_token() == "tok-on-tty"
    server.lines = ["Bedside: 5 persona(s) loaded"]
    assert server.printed_token() is None


def test_generated_token_file_is_private(tmp_path):
    s = Settings(data_dir=tmp_path / "new" / "data", educator_token=None)
    token, created = ensure_educator_token(s)
    assert created and token_path(s).read_text().strip() == token
    assert mode(token_path(s)) == 0o600 and mode(s.data_dir) == 0o700 and mode(s.data_dir.parent) == 0o700
    # An existing, empty, world-readable file is rewritten as a private one.
    old = Settings(data_dir=tmp_path / "old", educator_token=None)
    old.data_dir.mkdir(mode=0o755)
    token_path(old).touch(mode=0o644)
    os.chmod(token_path(old), 0o644)
    assert ensure_educator_token(old)[1] and mode(token_path(old)) == 0o600
    assert mode(old.data_dir) == 0o755  # an existing folder keeps the mode someone chose


# -- saved audio -------------------------------------------------------------------------------

async def test_saved_learner_audio_is_private(tmp_path):
    from server.api.voice import VoiceChannel

    folder = tmp_path / "data" / "audio" / "session-1"
    channel = VoiceChannel(port=None, outbox=None, transcriber=None, synthesizer=None, audio_dir=folder)
    try:
        path = channel._save_audio(np.zeros(1600, dtype=np.float32))
    finally:
        await channel.close()
    assert path.parent == folder and path.stat().st_size > 44
    assert mode(path) == 0o600
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700 and mode(folder.parent.parent) == 0o700


async def test_a_new_connection_never_overwrites_a_saved_recording(tmp_path):
    """A resumed session gets a new VoiceChannel (its turns counted from one again), and a taken-over
    connection may still be saving: each recording is a new file, the earlier ones untouched."""
    from server.api.voice import VoiceChannel

    folder = tmp_path / "audio" / "session-1"
    first, resumed = (VoiceChannel(port=None, outbox=None, transcriber=None, synthesizer=None, audio_dir=folder) for _ in range(2))
    try:
        a = first._save_audio(np.full(1600, 0.25, dtype=np.float32))
        kept = a.read_bytes()
        (folder / "turn-002.wav").write_bytes(b"a file of this session someone else wrote")
        b = resumed._save_audio(np.full(800, -0.5, dtype=np.float32))
        c = first._save_audio(np.zeros(400, dtype=np.float32))
    finally:
        await first.close()
        await resumed.close()
    assert [a.name, b.name, c.name] == ["turn-001.wav", "turn-003.wav", "turn-004.wav"]
    assert a.read_bytes() == kept and (folder / "turn-002.wav").read_bytes().startswith(b"a file")
    assert b.stat().st_size == 44 + 1600 and c.stat().st_size == 44 + 800 and mode(b) == 0o600


# -- bedside session delete --------------------------------------------------------------------

def _store_session(engine, store, learner: str, audio: list) -> str:
    state, opening = engine.start("chest-pain-anxiety")
    session = store.create_session(learner_id=learner, persona_id="chest-pain-anxiety", mode="voice",
                                   token="t", opening=opening, initial_state=state)
    for i, line in enumerate(["Hello, I'm Dr Patel.", "That sounds frightening."], 1):
        result, state = engine.respond(state, line)
        store.append_turn(session.id, result, state)
    for i, folder in enumerate(audio, 1):  # what the server writes with --store-audio
        wav = folder / session.id / f"turn-{i:03d}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        wav.write_bytes(b"RIFF")
        store.annotate_turn(session.id, i, {"voice": {"audio_file": str(wav)}})
    return session.id


def _turns_of(store, ids) -> int:
    with store.engine.connect() as c:
        return c.scalar(select(func.count(TurnRow.id)).where(TurnRow.session_id.in_(ids)))


@pytest.fixture
def two_learners(engine, tmp_path):
    """alice: two sessions, audio in the data dir and (one file) recorded elsewhere; bob: one session."""
    data, elsewhere = tmp_path / "data", tmp_path / "other-data" / "audio"
    store = open_store(f"sqlite:///{data / 'bedside.db'}")
    alice = [_store_session(engine, store, "alice", [data / "audio", elsewhere]),
             _store_session(engine, store, "alice", [])]
    bob = [_store_session(engine, store, "bob", [data / "audio"])]
    yield store, data, alice, bob, elsewhere
    store.close()


def test_session_delete_removes_that_learner_only(two_learners, capsys):
    store, data, alice, bob, elsewhere = two_learners
    assert _turns_of(store, alice) == 4 and (data / "audio" / alice[0]).is_dir()

    assert bedside(["session", "delete", "--learner", "alice", "--yes", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 session(s) of learner 'alice': 4 turn(s) with their grades, 2 audio file(s)" in out
    assert [s.learner_id for s in store.list_sessions()] == ["bob"]
    assert all(store.get_session(i) is None for i in alice) and _turns_of(store, alice) == 0
    assert not (data / "audio" / alice[0]).exists() and not (elsewhere / alice[0]).exists()
    # bob keeps everything: session, turns with grades, audio.
    assert len(store.turns(bob[0])) == 2 and store.turns(bob[0])[0].grade is not None
    assert (data / "audio" / bob[0] / "turn-001.wav").is_file()

    assert bedside(["session", "delete", "--learner", "alice", "--yes", "--data-dir", str(data)]) == 0
    assert "deleted 0 session(s)" in capsys.readouterr().out


def test_session_delete_asks_first(two_learners, monkeypatch, capsys):
    store, data, alice, bob, _ = two_learners
    args = ["session", "delete", "--learner", "alice", "--data-dir", str(data)]

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal: nobody to ask
    assert bedside(args) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "not a terminal" in err
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert bedside(args) == 1
    assert "Delete 2 session(s) of learner 'alice'" in capsys.readouterr().out
    assert len(store.list_sessions()) == 3  # nothing deleted either time

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert bedside(args) == 0
    assert [s.learner_id for s in store.list_sessions()] == ["bob"]


@pytest.mark.parametrize("learner,names", [("   ", "at least 1 character"), ("x" * 201, "at most 200"),
                                           ("bad\udcff", "not UTF-8"), ("a\x00b", "NUL")])
def test_session_delete_names_bad_input(two_learners, capsys, learner, names):
    store, data, *_ = two_learners
    assert bedside(["session", "delete", "--learner", learner, "--yes", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --learner") and names in err
    assert len(store.list_sessions()) == 3


def test_session_delete_needs_an_existing_database(tmp_path, capsys):
    missing = tmp_path / "no-such-dir"
    assert bedside(["session", "delete", "--learner", "alice", "--yes", "--data-dir", str(missing)]) == 2
    assert "no database" in capsys.readouterr().err and not missing.exists()


def test_delete_learner_on_postgres(engine, tmp_path, pg_url):
    """The same store method on PostgreSQL, when scripts/test.sh has started it."""
    url = pg_url
    from server.store.purge import delete_learner_data

    store = open_store(url)
    try:
        learner = f"pg-delete-{os.getpid()}-{tmp_path.name}"
        mine = [_store_session(engine, store, learner, [tmp_path / "audio"]) for _ in range(2)]
        other = _store_session(engine, store, learner + "-other", [])
        done = delete_learner_data(store, learner, tmp_path)
        assert (done.sessions, done.turns, done.audio_files) == (2, 4, 2)
        assert all(store.get_session(i) is None for i in mine) and _turns_of(store, mine) == 0
        assert store.get_session(other) is not None and len(store.turns(other)) == 2
        store.delete_learner(learner + "-other")
    finally:
        store.close()
