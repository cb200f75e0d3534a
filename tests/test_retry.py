"""'Try that again' (turn.retry): the last learner turn is taken back, the patient's whole
engine state goes back to what it was before it, and both attempts stay in the record, graded
and marked as a branch. Checked on the store, over the websocket of an in-process app (the real
engine and grader, a SQLite file), through resume, the HTTP API, the summary and the export.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
from starlette.testclient import TestClient

from eval.load.jsonl import load_jsonl
from eval.load.store import iter_store
from eval.metrics.session import session_metrics
from eval.metrics.summary import session_summary
from eval.packs import Packs
from server.api.app import create_app
from server.api.outbox import CollectingOutbox
from server.api.protocol import ProtocolError, parse_client
from server.api.voice import VoiceChannel
from server.config import Settings
from server.engine.patient import Engine
from server.persona.loader import PackRegistry
from server.store.base import RewindRefused
from server.store.branches import Branches, lived_turns
from server.store.export import export_lines, write_jsonl
from server.store.sql import open_store
from tests.voice_fakes import AmplitudeVAD, RecordingPort, ScriptedTranscriber, SilentSynthesizer, Timeline, VirtualClock, until

pytestmark = pytest.mark.slow

CASE = "chest-pain-anxiety"
LOCKED = "no-retry-case"  # the same patient, with allow_retry: false
EDUCATOR = "e" * 32
GREETING = "Hello, I'm Dr Lee, one of the doctors here. What brings you in today?"
DISMISSIVE = "Calm down, it's probably nothing. Let's just get on with the questions."
EMPATHIC = "That sounds really frightening. What worries you most about it?"


@pytest.fixture(scope="module")
def retry_engine(engine):
    """The session's models over two packs: the shipped case, and a copy of it that forbids retries."""
    pack = engine.pack(CASE)
    locked = pack.model_copy(update={"id": LOCKED, "allow_retry": False})
    return Engine(PackRegistry.from_packs([pack, locked]), engine.embedder, engine.grader, engine.realiser)


@pytest.fixture
def app(retry_engine, tmp_path):
    settings = Settings(data_dir=tmp_path, persona_dir=tmp_path, database_url=None)
    store = open_store(settings.resolved_database_url())
    client = TestClient(create_app(settings, engine=retry_engine, store=store, educator_token=EDUCATOR))
    client.store = store
    yield client
    client.close()
    store.close()


class Socket:
    """One /ws/session connection, speaking the protocol synchronously."""

    def __init__(self, client: TestClient):
        self.cm = client.websocket_connect("/ws/session")
        self.ws = self.cm.__enter__()

    def close(self):
        self.cm.__exit__(None, None, None)

    def send(self, msg: dict) -> None:
        self.ws.send_text(json.dumps(msg))

    def expect(self, kind: str) -> dict:
        event = self.ws.receive_json()
        assert event["type"] == kind, event
        return event

    def start(self, persona: str = CASE) -> dict:
        self.send({"type": "session.start", "persona_id": persona, "learner_id": f"retry-{uuid.uuid4().hex[:6]}"})
        return self.expect("session.started")

    def say(self, text: str) -> dict:
        self.send({"type": "learner.text", "text": text})
        grade, state, patient = self.expect("grade.turn"), self.expect("state.update"), self.expect("patient.text")
        assert grade["turn_id"] == state["turn_id"] == patient["turn_id"]
        return {"grade": grade, "state": state, "patient": patient}

    def retry(self, turn_id: int) -> dict:
        self.send({"type": "turn.retry", "turn_id": turn_id})
        return self.ws.receive_json()


def error_of(event: dict, code: str) -> str:
    assert event["type"] == "error" and event["code"] == code, event
    return event["message"]


# -- the store ----------------------------------------------------------------------------

def test_store_rewinds_only_the_last_turn_to_the_state_before_it(engine, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    state, opening = engine.start(CASE)
    session = store.create_session(learner_id="s", persona_id=CASE, mode="text", token="t", opening=opening,
                                   initial_state=state)
    with pytest.raises(RewindRefused, match="no turn 1 in this session yet"):
        store.rewind_turn(session.id, 1)
    states = [state]
    for line in (GREETING, DISMISSIVE):
        result, state = engine.respond(state, line)
        store.append_turn(session.id, result, state)
        states.append(state)

    with pytest.raises(RewindRefused, match="only the last turn .* turn 2, not 1") as refused:
        store.rewind_turn(session.id, 1)
    assert refused.value.reason == "not_last"
    back, record = store.rewind_turn(session.id, 2)
    assert back == states[1] and store.latest_state(session.id) == states[1]  # the whole engine state, exactly
    assert record.turn_index == 2 and record.extra["branch"] == {"status": "rewound", "retried_by": None}
    assert record.session_state == states[2]  # what the taken-back turn did is kept
    with pytest.raises(RewindRefused, match="already taken back"):
        store.rewind_turn(session.id, 2)
    assert Branches.of(store.turns(session.id)) == Branches(offset=1, open_retry=2, last_lived=1)

    # a streamed voice reply still being spoken cannot be taken back
    result, state = engine.respond(back, EMPATHIC)
    store.append_turn(session.id, result.model_copy(update={"turn_index": 3}), state,
                      extra={"reply_status": "streaming", "retry_of": 2})
    with pytest.raises(RewindRefused, match="still answering") as refused:
        store.rewind_turn(session.id, 3)
    assert refused.value.reason == "not_ready"
    assert [t.turn_index for t in lived_turns(store.turns(session.id))] == [1, 3]
    store.close()


def test_turn_retry_message_is_validated():
    assert parse_client('{"type": "turn.retry", "turn_id": 2}').turn_id == 2
    with pytest.raises(ProtocolError, match="'turn_id' is missing"):
        parse_client('{"type": "turn.retry"}')
    with pytest.raises(ProtocolError, match="'turn_id': Input should be less than"):
        parse_client('{"type": "turn.retry", "turn_id": 1180591620717411303424}')  # no database integer holds it


# -- over the websocket ---------------------------------------------------------------------

def test_retry_rewinds_the_state_and_keeps_both_attempts(app, retry_engine):
    store = app.store
    ws = Socket(app)
    started = ws.start()
    sid = started["session_id"]
    first = ws.say(GREETING)
    before = store.latest_state(sid)  # the whole engine state before the turn that is taken back
    dismissive = ws.say(DISMISSIVE)
    assert dismissive["state"]["trust"] < first["state"]["trust"]

    rewound = ws.retry(2)
    assert rewound["type"] == "turn.rewound" and rewound["turn_id"] == 2 and rewound["previous_turn_id"] == 1
    assert rewound["state"] == {k: first["state"][k] for k in ("trust", "distress", "emotion", "style")}
    assert store.latest_state(sid) == before

    retry = ws.say(EMPATHIC)
    assert retry["grade"]["turn_id"] == 3 and retry["grade"]["retry_of"] == 2
    assert retry["state"]["trust"] > first["state"]["trust"]
    # the retry ran from exactly the state before the taken-back turn
    _, expected = retry_engine.respond(before, EMPATHIC)
    turns = store.turns(sid)
    assert turns[2].session_state == expected and turns[2].session_state.turn_index == 2

    assert [t.turn_index for t in turns] == [1, 2, 3]
    taken_back, kept = turns[1], turns[2]
    assert taken_back.extra["branch"] == {"status": "rewound", "retried_by": 3}
    assert kept.extra["retry_of"] == 2 and "branch" not in kept.extra
    # both attempts are graded, each on its own words
    assert taken_back.learner_text == DISMISSIVE and taken_back.grade.flags
    assert kept.learner_text == EMPATHIC and kept.grade.model_dump(mode="json") == retry["grade"]["grade"]
    assert kept.state_before == turns[0].state_after

    # the HTTP API shows both, marked
    detail = app.get(f"/api/sessions/{sid}", headers={"Authorization": f"Bearer {started['token']}"}).json()
    assert [(t["turn_id"], t["branch"], t["retry_of"]) for t in detail["turns"]] == [
        (1, None, None), (2, {"status": "rewound", "retried_by": 3}, None), (3, None, 2)]

    # the summary counts the conversation the patient lived
    ws.send({"type": "session.end"})
    summary = ws.expect("session.summary")["summary"]
    ws.close()
    assert summary["turns"] == 2 and summary["taken_back"] == 1
    assert summary["final_trust"] == retry["state"]["trust"]
    assert not set(taken_back.grade.flags) & set(summary["flag_counts"]), "the taken-back turn's flags were counted"
    assert all(m["turn"] != 2 for m in summary["missed_opportunities"])


def test_retry_forbidden_by_the_case(app):
    ws = Socket(app)
    started = ws.start(LOCKED)
    assert started["persona"]["allow_retry"] is False
    ws.say(DISMISSIVE)
    message = error_of(ws.retry(1), "retry_not_allowed")
    assert "allow_retry: false" in message and LOCKED in message
    assert ws.say(EMPATHIC)["grade"]["turn_id"] == 2  # the session goes on, nothing was taken back
    assert not any("branch" in t.extra for t in app.store.turns(started["session_id"]))
    ws.close()
    personas = {p["id"]: p for p in app.get("/api/personas").json()["personas"]}
    assert personas[CASE]["allow_retry"] is True and personas[LOCKED]["allow_retry"] is False


def test_only_the_last_answered_turn_can_be_taken_back(app):
    ws = Socket(app)
    ws.start()
    assert "no turn 1" in error_of(ws.retry(1), "retry_not_last")
    ws.say(GREETING)
    ws.say(DISMISSIVE)
    assert "turn 2, not 1" in error_of(ws.retry(1), "retry_not_last")
    assert "no turn 7" in error_of(ws.retry(7), "retry_not_last")
    assert ws.retry(2)["type"] == "turn.rewound"
    assert "already taken back" in error_of(ws.retry(2), "retry_not_last")
    assert ws.say(EMPATHIC)["grade"]["turn_id"] == 3
    assert ws.retry(3)["previous_turn_id"] == 1  # a retry can itself be taken back
    assert ws.say(GREETING)["grade"]["retry_of"] == 3
    ws.close()


def test_resume_after_a_retry_continues_from_the_lived_state(app):
    store = app.store
    ws = Socket(app)
    started = ws.start()
    sid, token = started["session_id"], started["token"]
    first = ws.say(GREETING)
    ws.say(DISMISSIVE)
    ws.retry(2)
    ws.close()  # the connection drops between taking the turn back and saying it again

    ws = Socket(app)
    ws.send({"type": "session.resume", "session_id": sid, "token": token})
    resumed = ws.expect("session.started")
    assert resumed["state"] == {k: first["state"][k] for k in ("trust", "distress", "emotion", "style")}
    assert [(t["turn_id"], t["rewound"], t["retry_of"]) for t in resumed["turns"]] == [(1, False, None), (2, True, None)]
    retry = ws.say(EMPATHIC)
    assert retry["grade"]["turn_id"] == 3 and retry["grade"]["retry_of"] == 2  # still marked as the retry
    assert store.turns(sid)[1].extra["branch"]["retried_by"] == 3
    ws.close()

    ws = Socket(app)
    ws.send({"type": "session.resume", "session_id": sid, "token": token})
    resumed = ws.expect("session.started")
    after_retry = store.turns(sid)[2]
    assert store.latest_state(sid) == after_retry.session_state
    assert resumed["state"] == after_retry.state_after.model_dump()
    assert [(t["turn_id"], t["rewound"], t["retry_of"]) for t in resumed["turns"]] == [
        (1, False, None), (2, True, None), (3, False, 2)]
    nxt = ws.say("When did the pain start?")
    assert nxt["grade"]["turn_id"] == 4 and nxt["grade"]["retry_of"] is None
    assert store.turns(sid)[3].state_before == after_retry.state_after
    assert store.turns(sid)[3].session_state.turn_index == 3  # lived turns: 1, 3 and 4
    ws.close()


def test_export_carries_the_branch_marks(app, retry_engine, tmp_path):
    ws = Socket(app)
    started = ws.start()
    ws.say(GREETING)
    ws.say(DISMISSIVE)
    ws.retry(2)
    ws.say(EMPATHIC)
    ws.close()
    store = app.store
    out = io.StringIO()
    assert write_jsonl(export_lines(store, [store.get_session(started["session_id"])]), out) == 3
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["turn"], x["branch"], x["retry_of"], x["lived"]) for x in lines] == [
        (1, None, None, True), (2, {"status": "rewound", "retried_by": 3}, None, False), (3, None, 2, True)]
    assert lines[1]["learner"] == DISMISSIVE and lines[1]["grade"]["flags"]  # the taken-back attempt, graded

    # offline evaluation reads the marks: a summary recomputed from the export (or the store)
    # counts the conversation the patient lived, as the session's own would
    path = tmp_path / "turns.jsonl"
    path.write_text(out.getvalue())
    pack = retry_engine.pack(CASE)
    for session in (load_jsonl([path])[0], next(iter_store(store, [store.get_session(started["session_id"])]))):
        assert [t.lived for t in session.turns] == [True, False, True]
        summary = session_summary(session.model_copy(update={"summary": None}), pack, started["opening"])
        assert summary.turns == 2 and summary.taken_back == 1
        assert summary.final_trust == lines[2]["state_after"]["trust"]
        scores = session_metrics(session, Packs(registry=retry_engine.registry))  # the educator page's figures
        assert scores.turns == 2 and [v.turn for v in scores.views] == [1, 3]
        assert scores.final_trust == lines[2]["state_after"]["trust"] and not set(lines[1]["grade"]["flags"]) & set(scores.flag_counts)


# -- voice ------------------------------------------------------------------------------------

async def test_a_voice_turn_can_be_taken_back_once_the_patient_has_answered():
    """The server half of a retry in voice mode: refused, with the reason, while the learner is
    still talking or the patient still answering; allowed once the reply has been spoken."""
    clock = VirtualClock()
    channel = VoiceChannel(RecordingPort(), CollectingOutbox(), ScriptedTranscriber(DISMISSIVE), SilentSynthesizer(),
                           vad=AmplitudeVAD(), clock=clock)
    mic = Timeline(channel, clock)
    try:
        assert channel.busy_reason() is None
        await mic.speak(1000)
        assert "you are still speaking" in channel.busy_reason()
        await mic.pause(600)
        await until(lambda: any(e.type == "patient.audio.start" for e in channel.outbox.events))
        assert "the patient is still answering" in channel.busy_reason()
        await mic.wait(4000)
        await until(lambda: any(e.type == "metrics.turn" for e in channel.outbox.events))
        assert channel.busy_reason() is None
    finally:
        await channel.close()
