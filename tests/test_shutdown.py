"""SIGTERM on `bedside serve` (api/shutdown.py): no new connections, the turn in flight commits
and is answered, every socket closes with 1012, the leases are released, and the process exits."""

from __future__ import annotations

import signal
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from server.api.client import SessionClient
from server.api.launch import ServerProcess
from server.store.sql import open_store
from tests.held_realiser import HeldRealiser
from tests.server_log import wait_for_line

pytestmark = pytest.mark.slow

LINES = ["Hello, I'm Dr Okafor, one of the doctors here. What brings you in today?",
         "That sounds really worrying. Can you tell me more?"]


async def closed_code(c: SessionClient) -> int:
    """The close code of a socket the server closes next, with no other event before it."""
    with pytest.raises(ConnectionClosed) as closed:
        event = await c.recv()
        pytest.fail(f"an event came before the close: {event}")
    return closed.value.rcvd.code


async def test_sigterm_finishes_the_turn_in_flight_then_closes_and_releases(persona_dir, tmp_path):
    realiser = HeldRealiser()
    server = ServerProcess(tmp_path / "data", persona_dir, env=realiser.env()).start()
    try:
        idle = await SessionClient.open(server.ws_url)
        busy = await SessionClient.open(server.ws_url)
        idle_started = await idle.start("demo", f"idle-{uuid.uuid4().hex[:6]}")
        busy_started = await busy.start("demo", f"busy-{uuid.uuid4().hex[:6]}")
        await idle.say(LINES[0], "i-1")
        await busy.say(LINES[0], "b-1")
        realiser.hold()
        await busy.send({"type": "learner.text", "text": LINES[1], "client_turn_id": "b-2"})
        realiser.wait_entered()  # turn 2 is running in the server

        server.proc.send_signal(signal.SIGTERM)
        await wait_for_line(server, "draining:")
        with pytest.raises(OSError):  # no new connections
            await SessionClient.open(server.ws_url)
        # a turn sent now is not started: the socket closes for the restart, and the client resends it on resuming
        await idle.send({"type": "learner.text", "text": LINES[1], "client_turn_id": "i-2"})
        assert server.proc.poll() is None  # still waiting for the turn in flight

        realiser.release()
        grade = await busy.expect("grade.turn")
        assert grade["turn_id"] == 2 and grade["client_turn_id"] == "b-2"
        await busy.expect("state.update")
        await busy.expect("patient.text")
        assert await closed_code(busy) == 1012 and await closed_code(idle) == 1012  # "service restart"
        server.proc.wait(60)
        assert any("released" in line and "session lease(s)" in line for line in server.lines)
    finally:
        server.stop()
        realiser.close()

    store = open_store(f"sqlite:///{server.data_dir / 'bedside.db'}")
    try:
        assert [t.client_turn_id for t in store.turns(busy_started["session_id"])] == ["b-1", "b-2"]
        assert [t.client_turn_id for t in store.turns(idle_started["session_id"])] == ["i-1"]
        for started in (idle_started, busy_started):
            held = store.leases.holder(started["session_id"])
            assert held.replica is None and not held.busy  # released: a resume anywhere takes it at once
    finally:
        store.close()
