"""kill -9 mid-session: every turn the learner saw acknowledged must be in the store.

The server commits a turn before sending any of its events, so "patient.text arrived"
implies "committed and fsynced". This test holds it to that with a real SIGKILL.
"""

from __future__ import annotations

import asyncio
import stat

import httpx
import pytest

from server.api.client import SessionClient
from server.api.educator import TOKEN_FILE
from server.api.launch import ServerProcess
from server.store.sql import open_store

pytestmark = pytest.mark.slow

LINES = [
    "Hello, I'm Dr Nguyen. What would you like to talk about today?",
    "That sounds hard. What worries you most about it?",
    "How long has this been going on?",
    "I can hear how frightening this has been for you.",
    "Does anything make it better or worse?",
    "Is there anyone at home who helps you?",
]


async def test_acknowledged_turns_survive_sigkill(persona_dir, tmp_path):
    data = tmp_path / "data"
    server = ServerProcess(data, persona_dir).start()
    acked = []
    try:
        token = server.printed_token()
        assert token and (data / TOKEN_FILE).read_text().strip() == token
        c = await SessionClient.open(server.ws_url)
        started = await c.start("demo", "crash-learner")
        for line in LINES[:-1]:
            acked.append(await c.say(line))
        await c.send({"type": "learner.text", "text": LINES[-1]})  # in flight when the server dies
        server.kill()
        assert server.proc.returncode == -9
        with pytest.raises(Exception):
            await asyncio.wait_for(c.ws.recv(), 10)  # connection is gone, not answered
    finally:
        server.kill()

    restarted = ServerProcess(data, persona_dir).start()
    try:
        # Later starts read the saved educator token silently.
        assert restarted.printed_token() is None and token not in restarted.output()
        assert stat.S_IMODE((data / TOKEN_FILE).stat().st_mode) == 0o600

        store = open_store(f"sqlite:///{data / 'bedside.db'}")
        try:
            stored = {t.turn_index: t for t in store.turns(started["session_id"])}
        finally:
            store.close()
        for reply in acked:
            t = stored[reply.turn_id]
            assert t.learner_text == reply.grade["learner_text"] and t.reply == reply.patient["text"]
            assert t.grade.model_dump(mode="json") == reply.grade["grade"]
        assert sorted(stored) == list(range(1, len(stored) + 1))  # no gaps, no duplicates
        assert len(acked) <= len(stored) <= len(acked) + 1

        # The same data through the API of the restarted server.
        detail = httpx.get(f"{restarted.url}/api/sessions/{started['session_id']}",
                           headers={"Authorization": f"Bearer {token}"})
        assert detail.status_code == 200
        assert [t["turn_id"] for t in detail.json()["turns"]] == sorted(stored)

        # And the learner carries on where the store left off.
        async with await SessionClient.open(restarted.ws_url) as c2:
            resumed = await c2.resume(started["session_id"], started["token"])
            assert len(resumed["turns"]) == len(stored)
            nxt = await c2.say("Thank you for telling me all this.")
            assert nxt.turn_id == len(stored) + 1
            summary = await c2.end()
            assert summary["summary"]["turns"] == len(stored) + 1
    finally:
        restarted.stop()
