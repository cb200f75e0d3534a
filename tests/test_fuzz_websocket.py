"""Property-based fuzzing of /ws/session (issue 16, item 3): random frames and texts at the
real server. Every reply must be a known server event, no input may cause `internal_error`,
and the server must stay alive. Derandomised, so CI sees the same examples every run."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from websockets.sync.client import connect

from server.api.protocol import ServerMessage

pytestmark = pytest.mark.slow

EVENTS = TypeAdapter(ServerMessage)
TYPES = ["session.start", "session.resume", "learner.text", "session.end", "turn.retry", "nonsense", ""]
# any code point, lone surrogates and NUL included (json.dumps writes them as \ud800, \u0000)
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), max_size=60)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                           max_leaves=6)
MESSAGES = st.fixed_dictionaries({"type": st.sampled_from(TYPES)},
                                 optional={"persona_id": st.sampled_from(["demo", "../etc", "x" * 300]) | ANY_TEXT,
                                           "learner_id": ANY_TEXT, "mode": st.sampled_from(["text", "voice", "video"]) | ANY_TEXT,
                                           "text": ANY_TEXT, "interrupted": JSON_VALUES, "client_turn_id": JSON_VALUES,
                                           "session_id": ANY_TEXT, "token": ANY_TEXT, "extra": JSON_VALUES,
                                           "turn_id": st.integers() | JSON_VALUES})
FRAMES = st.one_of(
    MESSAGES.map(lambda m: json.dumps(m)),
    ANY_TEXT,                          # not JSON at all
    JSON_VALUES.map(json.dumps),       # JSON, but not a message
    st.binary(max_size=2000),          # audio bytes, odd lengths included
)


def replies(ws, timeout: float = 20.0) -> list[dict]:
    """Everything the server sends until it goes quiet (the turn's events come together)."""
    out = []
    try:
        while True:
            raw = ws.recv(timeout=timeout if not out else 0.3)
            if isinstance(raw, bytes):
                continue  # patient audio in a voice session
            out.append(json.loads(raw))
    except TimeoutError:
        return out
    except Exception:  # the server closed the socket (after session.summary): fine
        return out


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start_first=st.booleans(), frames=st.lists(FRAMES, min_size=1, max_size=3))
def test_random_frames_get_known_events_and_never_an_internal_error(live_server, start_first, frames):
    with connect(live_server.ws_url, max_size=None) as ws:
        if start_first:
            ws.send(json.dumps({"type": "session.start", "persona_id": "demo", "learner_id": "fuzz", "mode": "text"}))
            assert replies(ws)[0]["type"] == "session.started"
        for frame in frames:
            ws.send(frame)
            events = replies(ws, timeout=10.0)
            assert events, f"no reply to {frame!r}"  # every frame is answered, if only with an error
            for event in events:
                try:
                    EVENTS.validate_python(event)
                except ValidationError as exc:
                    pytest.fail(f"unknown event {event!r} after frame {frame!r}: {exc}")
                assert not (event["type"] == "error" and event["code"] == "internal_error"), (frame, event)
    assert httpx.get(live_server.url + "/healthz", timeout=10).status_code == 200
