"""The /ws/session protocol end to end against a real server subprocess."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import text

from server.api.client import SessionClient
from server.api.educator import TOKEN_FILE
from server.store.records import SessionFilter

pytestmark = pytest.mark.slow

LINES = [
    "Hello, I'm Dr Okafor, one of the doctors here. What brings you in today?",
    "That sounds really worrying. Can you tell me more?",
    "When did it start?",
    "It makes sense that you'd feel scared about this.",
]


def duplicate_rows(store) -> list:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT session_id, turn_index, COUNT(*) FROM turns "
                                 "GROUP BY session_id, turn_index HAVING COUNT(*) > 1")).all()


async def test_full_text_session(live_server, server_store):
    learner = f"full-{uuid.uuid4().hex[:6]}"
    acked = []
    async with await SessionClient.open(live_server.ws_url) as c:
        started = await c.start("demo", learner)
        assert started["persona"]["id"] == "demo" and started["opening"] and started["token"]
        assert set(started["state"]) == {"trust", "distress", "emotion", "style"} and started["resumed"] is False
        for i, line in enumerate(LINES, 1):
            reply = await c.say(line)
            assert reply.grade["turn_id"] == reply.state["turn_id"] == reply.turn_id == i
            assert reply.grade["learner_text"] == line and reply.patient["text"]
            assert reply.grade["grade"]["grader_version"]
            assert {"total", "commit", "server_total"} <= set(reply.grade["timings_ms"])
            acked.append(reply)
        summary = await c.end()
        assert summary["session_id"] == started["session_id"] and summary["summary"]["turns"] == len(LINES)
        assert 0 <= summary["summary"]["final_trust"] <= 1
        # The server closes the socket after the summary.
        with pytest.raises(Exception):
            await c.recv()

    session = server_store.get_session(started["session_id"])
    assert session.status == "ended" and session.summary == summary["summary"] and session.learner_id == learner
    stored = server_store.turns(started["session_id"])
    assert [t.turn_index for t in stored] == [r.turn_id for r in acked]
    for t, r in zip(stored, acked):
        assert t.learner_text == r.grade["learner_text"] and t.reply == r.patient["text"]
        assert t.grade.model_dump(mode="json") == r.grade["grade"]
        assert t.state_after.trust == r.state["trust"] and t.state_after.emotion == r.state["emotion"]
    assert session.final_state == stored[-1].session_state

    educator = (live_server.data_dir / TOKEN_FILE).read_text().strip()
    detail = httpx.get(f"{live_server.url}/api/sessions/{started['session_id']}",
                       headers={"Authorization": f"Bearer {educator}"}).json()
    assert detail["summary"] == summary["summary"] and len(detail["turns"]) == len(LINES)


# (frame to send, expected code, text the message must contain)
BEFORE_START = [
    ({"type": "learner.text", "text": "hello"}, "no_session", "session.start"),
    ({"type": "session.end"}, "no_session", "session.start"),
    ("{not json", "bad_json", "JSON"),
    ("[1, 2]", "bad_message", "type"),
    ({"type": "patient.text", "text": "x"}, "bad_message", "session.start"),
    ({"text": "no type"}, "bad_message", "type"),
    ({"type": "session.start", "learner_id": "x"}, "bad_message", "persona_id"),
    ({"type": "session.start", "persona_id": "demo", "learner_id": "x", "mode": "video"}, "bad_message", "mode"),
    ({"type": "session.start", "persona_id": "demo", "learner_id": "   "}, "bad_message", "learner_id"),
    ({"type": "session.start", "persona_id": "../demo", "learner_id": "x"}, "invalid_persona_id", "path"),
    ({"type": "session.start", "persona_id": "a/b", "learner_id": "x"}, "invalid_persona_id", "path"),
    ({"type": "session.start", "persona_id": "demo\n", "learner_id": "x"}, "invalid_persona_id", "path"),
    ({"type": "session.start", "persona_id": "demo", "learner_id": "x\u0000"}, "bad_message", "NUL"),
    ({"type": "session.start", "persona_id": "no-such-patient", "learner_id": "x"}, "unknown_persona", "demo"),
    ({"type": "session.start", "persona_id": "broken", "learner_id": "x"}, "unknown_persona", "available"),
    (b"\x00\x01\x02\x03", "no_session", "session.start"),
]


@pytest.mark.parametrize("frame,code,hint", BEFORE_START, ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(BEFORE_START)])
async def test_bad_input_before_start(live_server, server_store, frame, code, hint):
    learner = f"bad-{uuid.uuid4().hex[:8]}"
    async with await SessionClient.open(live_server.ws_url) as c:
        await c.send(frame)
        err = await c.expect_error(code)
        assert hint in err["message"]
        # The connection still works afterwards.
        await c.start("demo", learner)
        reply = await c.say(LINES[0])
        assert reply.turn_id == 1
    [session] = server_store.list_sessions(SessionFilter(learner_id=learner))
    assert session.turn_count == 1 and session.persona_id == "demo"
    assert duplicate_rows(server_store) == []


IN_SESSION = [
    ({"type": "learner.text", "text": "   \n\t "}, "empty_turn", "words"),
    ({"type": "learner.text", "text": ""}, "empty_turn", "words"),
    ({"type": "learner.text", "text": "x" * 4001}, "text_too_long", "4000"),
    ({"type": "learner.text"}, "bad_message", "text"),
    ({"type": "learner.text", "text": 42}, "bad_message", "text"),
    ({"type": "learner.text", "text": "hello \ud800 there"}, "bad_message", "surrogate"),
    ({"type": "learner.text", "text": "hello \u0000 there"}, "bad_message", "NUL"),
    ({"type": "session.start", "persona_id": "demo", "learner_id": "again"}, "session_active", "session.end"),
    ({"type": "session.resume", "session_id": "x", "token": "y"}, "session_active", "session.end"),
    ("not json at all", "bad_json", "JSON"),
    ({"type": "nope"}, "bad_message", "nope"),
    (b"\xff" * 640, "audio_in_text_mode", "voice"),
]


@pytest.mark.parametrize("frame,code,hint", IN_SESSION, ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(IN_SESSION)])
async def test_bad_input_during_session(live_server, server_store, frame, code, hint):
    learner = f"bad-{uuid.uuid4().hex[:8]}"
    async with await SessionClient.open(live_server.ws_url) as c:
        started = await c.start("demo", learner)
        first = await c.say(LINES[0])
        await c.send(frame)
        err = await c.expect_error(code)
        assert hint in err["message"]
        second = await c.say(LINES[1])
        assert (first.turn_id, second.turn_id) == (1, 2)
    stored = server_store.turns(started["session_id"])
    assert [t.learner_text for t in stored] == LINES[:2]
    assert len(server_store.list_sessions(SessionFilter(learner_id=learner))) == 1
    assert duplicate_rows(server_store) == []


async def test_text_at_the_limit_is_accepted(live_server, server_store):
    async with await SessionClient.open(live_server.ws_url) as c:
        started = await c.start("demo", f"limit-{uuid.uuid4().hex[:6]}")
        words = ("Tell me more. " * 300)[:3999] + "?"
        assert len(words) == 4000
        reply = await c.say(words)
        assert reply.turn_id == 1
    assert len(server_store.turns(started["session_id"])[0].learner_text) == 4000


async def test_resend_with_client_turn_id_is_not_written_twice(live_server, server_store):
    async with await SessionClient.open(live_server.ws_url) as c:
        started = await c.start("demo", f"dedupe-{uuid.uuid4().hex[:6]}")
        first = await c.say(LINES[0], client_turn_id="t-1")
        again = await c.say(LINES[0], client_turn_id="t-1")
        assert again.grade["replayed"] is True and first.grade["replayed"] is False
        assert again.turn_id == first.turn_id == 1 and again.patient["text"] == first.patient["text"]
        nxt = await c.say(LINES[1], client_turn_id="t-2")
        assert nxt.turn_id == 2
    stored = server_store.turns(started["session_id"])
    assert [(t.turn_index, t.client_turn_id) for t in stored] == [(1, "t-1"), (2, "t-2")]


async def test_resume_after_reconnect(live_server, server_store):
    c = await SessionClient.open(live_server.ws_url)
    started = await c.start("demo", f"resume-{uuid.uuid4().hex[:6]}")
    sid, token = started["session_id"], started["token"]
    acked = [await c.say(LINES[0], "r-1"), await c.say(LINES[1], "r-2")]
    # Send turn 3, then lose the connection before its reply arrives.
    await c.send({"type": "learner.text", "text": LINES[2], "client_turn_id": "r-3"})
    c.ws.transport.abort()

    async with await SessionClient.open(live_server.ws_url) as c2:
        await c2.send({"type": "session.resume", "session_id": sid, "token": "wrong"})
        await c2.expect_error("bad_token")
        await c2.send({"type": "session.resume", "session_id": str(uuid.uuid4()), "token": token})
        await c2.expect_error("unknown_session")
        resumed = await c2.resume(sid, token)
        assert resumed["resumed"] is True and resumed["session_id"] == sid and resumed["opening"] == started["opening"]
        seen = [(t["turn_id"], t["patient_text"]) for t in resumed["turns"]]
        assert seen[:2] == [(a.turn_id, a.patient["text"]) for a in acked] and len(seen) in (2, 3)
        # The client never saw turn 3's reply, so it resends it with the same id: never stored twice.
        third = await c2.say(LINES[2], "r-3")
        assert third.turn_id == 3 and third.grade["replayed"] is (len(seen) == 3)
        again = await c2.say(LINES[2], "r-3")
        assert again.grade["replayed"] is True and again.patient["text"] == third.patient["text"]
        fourth = await c2.say(LINES[3], "r-4")
        assert fourth.turn_id == 4
        summary = await c2.end()
        assert summary["summary"]["turns"] == 4

    stored = server_store.turns(sid)
    assert [(t.turn_index, t.learner_text, t.client_turn_id) for t in stored] == \
        [(i, line, f"r-{i}") for i, line in enumerate(LINES, 1)]
    assert duplicate_rows(server_store) == []
    async with await SessionClient.open(live_server.ws_url) as c3:
        await c3.send({"type": "session.resume", "session_id": sid, "token": token})
        err = await c3.expect_error("session_ended")
        assert sid in err["message"]


async def test_resume_takes_over_a_stale_connection(live_server, server_store):
    async with await SessionClient.open(live_server.ws_url) as old:
        started = await old.start("demo", f"takeover-{uuid.uuid4().hex[:6]}")
        await old.say(LINES[0])
        async with await SessionClient.open(live_server.ws_url) as new:
            await new.resume(started["session_id"], started["token"])
            await old.send({"type": "learner.text", "text": LINES[1]})
            err = await old.expect_error("session_taken_over")
            assert "another connection" in err["message"]
            reply = await new.say(LINES[1])
            assert reply.turn_id == 2
        # The old socket is still usable for a new session.
        await old.start("demo", "takeover-fresh")
    assert [t.learner_text for t in server_store.turns(started["session_id"])] == LINES[:2]


async def test_end_without_turns_and_voice_mode(live_server, server_store):
    async with await SessionClient.open(live_server.ws_url) as c:
        started = await c.start("demo", f"empty-{uuid.uuid4().hex[:6]}", mode="voice")
        summary = await c.end()
        assert summary["summary"]["turns"] == 0
    session = server_store.get_session(started["session_id"])
    assert session.mode == "voice" and session.status == "ended" and session.turn_count == 0


async def test_protocol_schema_is_served(live_server):
    schema = httpx.get(live_server.url + "/api/protocol").json()
    blob = json.dumps(schema)
    for kind in ("session.start", "learner.text", "session.end", "session.resume", "session.started",
                 "patient.text", "state.update", "grade.turn", "session.summary", "error"):
        assert kind in blob
