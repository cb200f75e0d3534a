"""Limits on one connection and one client address (issue 16, item 4): unit tests of each
counter with a scripted clock, then the real server with small limits set by environment."""

from __future__ import annotations

import asyncio
import os

import pytest

from server.api.limits import AudioPace, ClientSessions, TurnRate, check_session_age
from server.api.protocol import ProtocolError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_turn_rate_refuses_the_turn_over_the_limit_and_allows_it_a_minute_later():
    clock = Clock()
    rate = TurnRate(3, clock=clock)
    for _ in range(3):
        rate.check()
        clock.t += 1
    with pytest.raises(ProtocolError) as e:
        rate.check()
    assert e.value.code == "busy" and "max_turns_per_minute" in e.value.message
    clock.t += 58  # the first turn is now a minute old
    rate.check()
    TurnRate(0, clock=clock).check()  # 0: no limit


def test_audio_may_arrive_at_one_and_a_half_times_real_time_but_not_as_a_file_at_once():
    clock = Clock()
    pace = AudioPace(1.5, burst_s=3.0, clock=clock)
    second = 32_000  # one second of 16 kHz PCM16
    for _ in range(20):  # real time, 20 ms frames
        pace.check(second // 50)
        clock.t += 0.02
    clock.t += 1.0
    pace.check(second)  # a little catch-up is fine
    with pytest.raises(ProtocolError) as e:
        pace.check(60 * second)  # a minute of audio at once
    assert e.value.code == "audio_too_fast" and "audio_max_speed" in e.value.message
    pace.check(second // 50)  # the dropped frame did not count; streaming goes on


def test_client_sessions_are_capped_per_address_and_freed_on_leave():
    cap = ClientSessions(2)
    a, b, c = object(), object(), object()
    cap.enter("10.0.0.1", a)
    cap.enter("10.0.0.1", b)
    cap.enter("10.0.0.1", a)  # the same connection again (resume) is not a new session
    cap.enter("10.0.0.2", c)  # another address has its own count
    with pytest.raises(ProtocolError) as e:
        cap.enter("10.0.0.1", object())
    assert e.value.code == "too_many_sessions"
    cap.leave("10.0.0.1", a)
    cap.enter("10.0.0.1", object())
    assert cap.count("10.0.0.1") == 2


def test_a_session_older_than_the_limit_refuses_turns():
    check_session_age(0.0, 120, now=119 * 60)
    with pytest.raises(ProtocolError) as e:
        check_session_age(0.0, 120, now=121 * 60)
    assert e.value.code == "session_too_long" and "session.end" in e.value.message
    check_session_age(0.0, 0, now=10**9)  # 0: no limit


@pytest.fixture(scope="module")
def limited_server(persona_dir, tmp_path_factory):
    from server.api.launch import ServerProcess

    env = {**os.environ, "BEDSIDE_MAX_TURNS_PER_MINUTE": "3", "BEDSIDE_MAX_SESSIONS_PER_CLIENT": "2",
           "BEDSIDE_IDLE_TIMEOUT_S": "1.5"}
    server = ServerProcess(tmp_path_factory.mktemp("limited-data"), persona_dir, env=env).start()
    yield server
    server.stop()


@pytest.mark.slow
async def test_a_flood_of_turns_on_one_socket_gets_busy_after_the_limit(limited_server):
    from server.api.client import SessionClient

    async with await SessionClient.open(limited_server.ws_url) as c:
        await c.start("demo", "flood")
        for i in range(3):
            await c.say(f"Can you tell me more, part {i}?")
        await c.send({"type": "learner.text", "text": "One more?"})
        err = await c.expect_error("busy")
        assert "wait" in err["message"]


@pytest.mark.slow
async def test_sessions_per_address_are_capped_and_an_idle_socket_is_closed(limited_server):
    from server.api.client import SessionClient

    first = await SessionClient.open(limited_server.ws_url)
    second = await SessionClient.open(limited_server.ws_url)
    third = await SessionClient.open(limited_server.ws_url)
    try:
        await first.start("demo", "cap-1")
        await second.start("demo", "cap-2")
        await third.send({"type": "session.start", "persona_id": "demo", "learner_id": "cap-3", "mode": "text"})
        err = await third.expect_error("too_many_sessions")
        assert "max_sessions_per_client" in err["message"]
        # nothing sent for longer than the idle timeout: the server says so and closes
        await asyncio.sleep(1.8)
        idle = await first.expect_error("idle_timeout")
        assert "session.resume" in idle["message"]
        with pytest.raises(Exception):
            await first.recv()
    finally:
        for c in (first, second, third):
            await c.close()
    # closed sockets free their places: a new one may start
    async with await SessionClient.open(limited_server.ws_url) as again:
        await asyncio.sleep(0.3)
        await again.start("demo", "cap-4")


@pytest.mark.slow
async def test_audio_sent_as_a_file_at_once_gets_audio_too_fast_and_the_session_survives(limited_server):
    import json

    import websockets

    async with websockets.connect(limited_server.ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.start", "persona_id": "demo", "learner_id": "pace", "mode": "voice"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 60)).get("type") != "session.started":
            pass
        frame = bytes(1280)  # 40 ms of silence
        for _ in range(200):  # 8 s of audio in a burst
            await ws.send(frame)
        codes = []
        while "audio_too_fast" not in codes:
            event = json.loads(await asyncio.wait_for(ws.recv(), 30))
            codes.append(event.get("code"))
        await ws.send(json.dumps({"type": "learner.text", "text": "Are you still there?"}))  # the session goes on
        while (event := json.loads(await asyncio.wait_for(ws.recv(), 30))).get("code") == "audio_too_fast":
            pass
        assert event["type"] == "grade.turn", event
