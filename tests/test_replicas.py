"""Two `bedside serve` replicas on one PostgreSQL (docs/scaling.md#replicas-and-leases).

Each replica is a real server process on a loopback port, both on a schema of this module's
own. Replies are worded through tests/held_realiser.py, so a test can hold a turn in flight
inside replica A while it resumes the session on B, or kills A.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from server.api.client import SessionClient, TurnReply
from server.api.launch import ServerProcess
from server.store.sql import open_store
from tests.held_realiser import HeldRealiser
from tests.postgres import fresh_schema, pg_url_or_skip
from tests.server_log import wait_for_line

pytestmark = pytest.mark.slow

LEASE_TTL_S = "2"  # short, so a resume after a kill -9 mid-turn waits briefly
LINES = [
    "Hello, I'm Dr Okafor, one of the doctors here. What brings you in today?",
    "That sounds really worrying. Can you tell me more?",
    "When did it start?",
    "It makes sense that you'd feel scared about this.",
    "What worries you most about it?",
]
WAITING = "waiting for a turn in flight on another replica"


class Replicas:
    """Replicas A and B, the held realiser they word replies with, and a store to check the database."""

    def __init__(self, url: str, persona_dir: Path, data: Path, realiser: HeldRealiser):
        self.url, self.realiser = url, realiser
        env = {"BEDSIDE_DATABASE_URL": url, "BEDSIDE_LEASE_TTL_S": LEASE_TTL_S, **realiser.env()}
        self.a = ServerProcess(data / "a", persona_dir, env=env)
        self.b = ServerProcess(data / "b", persona_dir, env=env)
        self.store = open_store(url)

    def ensure(self) -> None:
        """Start whichever replica is not running (both at once: each start loads the models)."""
        down = [s for s in (self.a, self.b) if s.proc is None or s.proc.poll() is not None]
        errors = []

        def start(server):
            try:
                server.start()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(s,)) for s in down]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def close(self) -> None:
        self.a.stop()
        self.b.stop()
        self.store.close()

    def duplicate_turns(self) -> list:
        with self.store.engine.connect() as conn:
            return conn.execute(text("SELECT session_id, turn_index, COUNT(*) FROM turns "
                                     "GROUP BY session_id, turn_index HAVING COUNT(*) > 1")).all()


@pytest.fixture(scope="module")
def replicas(persona_dir, tmp_path_factory):
    realiser = HeldRealiser()
    try:
        with fresh_schema(pg_url_or_skip(), "replicas") as url:
            reps = Replicas(url, persona_dir, tmp_path_factory.mktemp("replicas"), realiser)
            try:
                yield reps
            finally:
                reps.close()
    finally:
        realiser.close()


@pytest.fixture
def reps(replicas):
    replicas.ensure()
    yield replicas
    replicas.realiser.release()


async def say_or_error(c: SessionClient, line: str, cid: str) -> TurnReply | str:
    """A turn's three events, or the code of the error it got instead."""
    await c.send({"type": "learner.text", "text": line, "client_turn_id": cid})
    first = await c.recv()
    if first["type"] == "error":
        return first["code"]
    assert first["type"] == "grade.turn", first
    return TurnReply(first, await c.expect("state.update"), await c.expect("patient.text"))


def replica_id(server: ServerProcess) -> str:
    """The replica id a server logged at start (api/leases.py)."""
    line = next(line for line in server.lines if "session leases last" in line)
    return line.split("replica ", 1)[1].split(":", 1)[0]


def feelings(state: dict) -> tuple:
    return state["trust"], state["distress"], state["emotion"], state["style"]


async def test_a_resume_on_b_waits_for_the_turn_in_flight_on_a(reps):
    """B answers the resume only once A's turn has committed, so the learner continues from it;
    the turn resent to B with the same client_turn_id is the stored one, not a second."""
    async with await SessionClient.open(reps.a.ws_url) as on_a, await SessionClient.open(reps.b.ws_url) as on_b:
        started = await on_a.start("demo", f"wait-{uuid.uuid4().hex[:6]}")
        sid, token = started["session_id"], started["token"]
        acked = [await on_a.say(LINES[0], "w-1"), await on_a.say(LINES[1], "w-2")]

        reps.realiser.hold()
        await on_a.send({"type": "learner.text", "text": LINES[2], "client_turn_id": "w-3"})
        reps.realiser.wait_entered()  # turn 3 is running inside A, committed nowhere yet
        mark = len(reps.b.lines)
        resume = asyncio.create_task(on_b.resume(sid, token))
        await wait_for_line(reps.b, WAITING, after=mark)
        assert not resume.done()
        reps.realiser.release()

        third = TurnReply(await on_a.expect("grade.turn"), await on_a.expect("state.update"),
                          await on_a.expect("patient.text"))
        acked.append(third)
        resumed = await resume
        assert [(t["turn_id"], t["learner_text"], t["patient_text"]) for t in resumed["turns"]] == \
            [(r.turn_id, r.grade["learner_text"], r.patient["text"]) for r in acked]
        assert feelings(resumed["state"]) == feelings(third.state)

        again = await on_b.say(LINES[2], "w-3")  # the learner never saw turn 3's reply on A
        assert again.grade["replayed"] is True and again.turn_id == 3 and again.patient["text"] == third.patient["text"]
        assert await say_or_error(on_a, LINES[3], "w-4") == "session_taken_over"
        assert (await on_b.say(LINES[3], "w-4")).turn_id == 4

    assert [t.client_turn_id for t in reps.store.turns(sid)] == ["w-1", "w-2", "w-3", "w-4"]
    assert reps.duplicate_turns() == []


async def test_two_simultaneous_resumes_leave_one_driver(reps):
    """Both resumes succeed (the newest claim wins, as on one server); the one that claimed
    first learns it was taken over at its next turn, and only the other's turn is stored."""
    async with await SessionClient.open(reps.a.ws_url) as c:
        started = await c.start("demo", f"twin-{uuid.uuid4().hex[:6]}")
        await c.say(LINES[0], "t-1")
    sid, token = started["session_id"], started["token"]
    for round_ in range(3):
        async with await SessionClient.open(reps.a.ws_url) as on_a, await SessionClient.open(reps.b.ws_url) as on_b:
            await asyncio.gather(on_a.resume(sid, token), on_b.resume(sid, token))
            holder = reps.store.leases.holder(sid).replica
            outcomes = await asyncio.gather(say_or_error(on_a, f"{LINES[1]} (a{round_})", f"a-{round_}"),
                                            say_or_error(on_b, f"{LINES[1]} (b{round_})", f"b-{round_}"))
            codes = [o for o in outcomes if isinstance(o, str)]
            replies = [o for o in outcomes if isinstance(o, TurnReply)]
            assert codes == ["session_taken_over"] and len(replies) == 1, outcomes
            winner = "a" if isinstance(outcomes[0], TurnReply) else "b"
            assert holder == replica_id(reps.a if winner == "a" else reps.b)  # the newest claim drives
            assert replies[0].grade["client_turn_id"] == f"{winner}-{round_}"
    stored = reps.store.turns(sid)
    assert [t.turn_index for t in stored] == [1, 2, 3, 4] and reps.duplicate_turns() == []


async def test_the_same_client_turn_id_sent_to_both_replicas_is_stored_once(reps):
    async with await SessionClient.open(reps.a.ws_url) as on_a:
        started = await on_a.start("demo", f"dup-{uuid.uuid4().hex[:6]}")
        sid, token = started["session_id"], started["token"]
        await on_a.say(LINES[0], "d-1")
        async with await SessionClient.open(reps.b.ws_url) as on_b:
            await on_b.resume(sid, token)
            on_both = await asyncio.gather(say_or_error(on_a, LINES[1], "d-2"), say_or_error(on_b, LINES[1], "d-2"))
            assert on_both[0] == "session_taken_over" and on_both[1].grade["replayed"] is False
            stored = on_both[1]
        # A takes the session back and resends the turn: the stored one comes back
        await on_a.resume(sid, token)
        again = await on_a.say(LINES[1], "d-2")
        assert again.grade["replayed"] is True and again.turn_id == stored.turn_id == 2
        assert again.patient["text"] == stored.patient["text"]
    assert [t.client_turn_id for t in reps.store.turns(sid)] == ["d-1", "d-2"]


async def test_kill_9_on_a_loses_no_acknowledged_turn_and_b_carries_on(reps):
    """Sessions on A, one with a turn in flight; A is killed. Every session resumes on B with
    every turn A acknowledged and the feelings A last reported; the turn in flight was never
    committed, so B waits for its lease to expire and then runs it when it is resent."""
    clients, sessions = [], []
    for i in range(3):
        c = await SessionClient.open(reps.a.ws_url)
        started = await c.start("demo", f"kill-{i}-{uuid.uuid4().hex[:6]}")
        acked = [await c.say(line, f"k{i}-{n}") for n, line in enumerate(LINES[: 2 + i], 1)]
        clients.append(c)
        sessions.append((started, acked))
    in_flight = clients[0]
    reps.realiser.hold()
    await in_flight.send({"type": "learner.text", "text": LINES[4], "client_turn_id": "k0-late"})
    reps.realiser.wait_entered()
    reps.a.kill()
    reps.realiser.release()
    for c in clients:
        with pytest.raises(Exception):  # the connection is gone, not answered
            await asyncio.wait_for(c.ws.recv(), 10)
        await c.close()

    mark = len(reps.b.lines)
    for started, acked in sessions:
        async with await SessionClient.open(reps.b.ws_url) as on_b:
            resumed = await on_b.resume(started["session_id"], started["token"])
            assert [(t["turn_id"], t["learner_text"], t["patient_text"]) for t in resumed["turns"]] == \
                [(r.turn_id, r.grade["learner_text"], r.patient["text"]) for r in acked]
            assert feelings(resumed["state"]) == feelings(acked[-1].state)
            rows = reps.store.turns(started["session_id"])
            assert [feelings(t.state_after.model_dump(mode="json")) for t in rows] == \
                [feelings(r.state) for r in acked]
            if started is sessions[0][0]:  # its lease was busy when A died: B waited for it to expire
                assert any(WAITING in line for line in reps.b.lines[mark:])
                late = await on_b.say(LINES[4], "k0-late")
                assert late.grade["replayed"] is False and late.turn_id == len(acked) + 1
            else:
                assert (await on_b.say(LINES[4], "next")).turn_id == len(acked) + 1
    assert reps.duplicate_turns() == []

    # B stops gracefully (SIGTERM): the leases it held are released, so no resume would wait on them
    reps.b.stop()
    assert any("released" in line and "session lease(s)" in line for line in reps.b.lines)
    for started, _ in sessions:
        held = reps.store.leases.holder(started["session_id"])
        assert held.replica is None and not held.busy
