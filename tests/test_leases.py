"""Session leases in the store (server/store/leases.py), on SQLite and on PostgreSQL.

The rules every replica relies on: the newest claim wins; a claim waits while another
replica's turn is in flight, unless that lease has expired; and every fenced write by a
lease that was taken over is refused with nothing written.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from server.store.base import LeaseLost, SessionEnded, UnknownSession
from server.store.sql import open_store
from tests.postgres import fresh_schema

TTL = 30.0
LINES = ["Hello, I'm Dr Patel. What brings you in today?", "That sounds really frightening.",
         "Can you tell me more about what worries you most?"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'leases.db'}")
        yield s
        s.close()
        return
    with fresh_schema(request.getfixturevalue("pg_url"), "leases") as url:
        s = open_store(url)
        yield s
        s.close()


@pytest.fixture
def session(engine, store):
    """A started session and a function that runs its next turn: (record, turn(lease, line))."""
    state, opening = engine.start("demo")
    record = store.create_session(learner_id=f"l-{uuid.uuid4().hex[:6]}", persona_id="demo", mode="text",
                                  token="tok", opening=opening, initial_state=state)
    box = {"state": state}

    def turn(lease, line, **kw):
        result, new_state = engine.respond(box["state"], line)
        stored = store.append_turn(record.id, result, new_state, lease=lease, **kw)
        box["state"] = new_state
        return stored

    return record, turn


def claim(store, sid, replica, **kw):
    return store.leases.claim(sid, replica, f"conn-{uuid.uuid4().hex[:6]}", kw.pop("ttl_s", TTL), **kw)


def test_the_newest_claim_wins_and_the_old_lease_writes_nothing(store, session, engine):
    record, turn = session
    old = claim(store, record.id, "replica-a")
    assert old.epoch == 1
    first = turn(old, LINES[0])
    new = claim(store, record.id, "replica-b")
    assert new.epoch == 2 and store.leases.holder(record.id).replica == "replica-b"

    with pytest.raises(LeaseLost):
        store.leases.begin_turn(old)
    with pytest.raises(LeaseLost):
        turn(old, LINES[1])
    with pytest.raises(LeaseLost):
        store.rewind_turn(record.id, first.turn_index, lease=old)
    with pytest.raises(LeaseLost):
        store.end_session(record.id, {}, store.latest_state(record.id), lease=old)
    with pytest.raises(LeaseLost):
        store.finish_reply(record.id, first.turn_index, reply="other words", realiser="x",
                           state=store.latest_state(record.id), extra={}, lease=old)
    # nothing the old lease tried was written
    assert [(t.turn_index, t.reply, t.extra.get("rewound")) for t in store.turns(record.id)] == \
        [(1, first.reply, None)]
    assert store.get_session(record.id).status == "active"

    assert turn(new, LINES[1]).turn_index == 2  # the new lease writes
    store.end_session(record.id, {}, store.latest_state(record.id), lease=new)
    assert store.leases.holder(record.id) is None  # an ended session has no lease
    with pytest.raises(SessionEnded):
        claim(store, record.id, "replica-a")
    with pytest.raises(UnknownSession):
        claim(store, str(uuid.uuid4()), "replica-a")


def test_a_claim_waits_for_a_turn_in_flight_on_another_replica(store, session):
    record, turn = session
    a = claim(store, record.id, "replica-a")
    store.leases.begin_turn(a)
    assert store.leases.holder(record.id).busy
    assert claim(store, record.id, "replica-b") is None  # a turn is running on A: B waits
    turn(a, LINES[0], last_write=False)  # a turn with more writes to come is still in flight
    assert claim(store, record.id, "replica-b") is None
    store.leases.end_turn(a)
    b = claim(store, record.id, "replica-b")
    assert b.epoch == 2 and not store.leases.holder(record.id).busy

    store.leases.begin_turn(b)
    turn(b, LINES[1])  # the turn's only write ends it
    assert claim(store, record.id, "replica-a").epoch == 3


def test_the_own_replica_and_a_forced_claim_do_not_wait(store, session):
    record, _ = session
    a = claim(store, record.id, "replica-a")
    store.leases.begin_turn(a)
    # this replica's own lock already waited for its turn in flight
    assert claim(store, record.id, "replica-a").epoch == 2
    b = claim(store, record.id, "replica-a")
    store.leases.begin_turn(b)
    assert claim(store, record.id, "replica-c", wait_for_turn=False).epoch == 4


def test_a_turn_left_busy_by_a_dead_replica_holds_a_claim_only_until_its_lease_expires(store, session):
    record, turn = session
    dead = claim(store, record.id, "replica-dead", ttl_s=0)  # its heartbeat never comes
    store.leases.begin_turn(dead)
    b = claim(store, record.id, "replica-b")
    assert b is not None and b.epoch == 2
    with pytest.raises(LeaseLost):  # were it only slow, its turn could not be written now
        turn(dead, LINES[0])
    assert store.turns(record.id) == []


def test_release_frees_the_session_and_keeps_the_epoch_growing(store, session):
    record, turn = session
    a = claim(store, record.id, "replica-a")
    stored = turn(a, LINES[0])
    store.leases.begin_turn(a)
    assert store.leases.release(a)
    held = store.leases.holder(record.id)
    assert (held.replica, held.connection, held.busy, held.epoch) == (None, None, False, 1)
    # released, not taken over: the words of a reply it was speaking are still its to record
    store.finish_reply(record.id, stored.turn_index, reply=stored.reply, realiser="done", state=None, extra={}, lease=a)
    with pytest.raises(LeaseLost):  # but no new turn
        store.leases.begin_turn(a)
    b = claim(store, record.id, "replica-b")
    assert b.epoch == 2
    with pytest.raises(LeaseLost):
        store.finish_reply(record.id, stored.turn_index, reply="late words", realiser="late", state=None, extra={}, lease=a)
    assert store.turns(record.id)[0].realiser == "done"


def test_heartbeat_and_shutdown_touch_only_the_replicas_own_leases(store, engine):
    state, opening = engine.start("demo")
    ids = [store.create_session(learner_id="hb", persona_id="demo", mode="text", token="t", opening=opening,
                                initial_state=state).id for _ in range(3)]
    mine = f"replica-{uuid.uuid4().hex[:6]}"
    for sid in ids[:2]:
        claim(store, sid, mine, ttl_s=0)
    claim(store, ids[2], "replica-other")
    before = store.leases.holder(ids[0]).expires_at
    assert store.leases.renew(mine, TTL) == 2
    assert store.leases.holder(ids[0]).expires_at > before
    assert store.leases.release_replica(mine) == 2
    assert [store.leases.holder(sid).replica for sid in ids] == [None, None, "replica-other"]


def test_deleting_a_learner_deletes_the_leases_of_their_sessions(store, session):
    record, _ = session
    claim(store, record.id, "replica-a")
    store.delete_learner(record.learner_id)
    assert store.leases.holder(record.id) is None and store.get_session(record.id) is None


def test_concurrent_claims_and_writes_leave_exactly_one_driver(store, session, engine):
    """Many replicas resume one session at once: each claim gets its own epoch, and of the turns
    they then all try to write, only the last claimant's is stored."""
    record, _ = session
    n = 6
    leases, barrier = [None] * n, threading.Barrier(n)

    def resume(i, sid):
        barrier.wait()
        leases[i] = claim(store, sid, f"replica-{i}")

    # several sessions' first claims race too (their lease rows are created as they go)
    others = [store.create_session(learner_id=record.learner_id, persona_id="demo", mode="text", token="t",
                                   opening=record.opening, initial_state=record.initial_state).id for _ in range(4)]
    for sid in [*others, record.id]:
        threads = [threading.Thread(target=resume, args=(i, sid)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(lease.epoch for lease in leases) == list(range(1, n + 1)), leases
        winner = max(leases, key=lambda lease: lease.epoch)
        assert store.leases.holder(sid).connection == winner.connection

    state = store.latest_state(record.id)
    outcomes = [None] * n

    def write(i):
        result, new_state = engine.respond(state, f"{LINES[0]} ({i})")
        barrier.wait()
        try:
            outcomes[i] = store.append_turn(record.id, result, new_state, lease=leases[i]).learner_text
        except LeaseLost:
            outcomes[i] = "lost"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [i for i, o in enumerate(outcomes) if o != "lost"]
    assert won == [leases.index(winner)]
    assert [t.learner_text for t in store.turns(record.id)] == [outcomes[won[0]]]


async def test_two_replicas_in_one_process_hand_a_session_over(engine, settings, tmp_path, caplog):
    """The websocket side (api/conversation.py) on two Services, i.e. two replica ids, sharing one
    SQLite store: a resume on B waits for A's turn in flight, then drives; A's next turn is refused."""
    from server.api.conversation import Conversation
    from server.api.outbox import CollectingOutbox
    from server.api.protocol import ProtocolError, SessionResume, SessionStart
    from server.api.services import Services

    store = open_store(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        a, b = (Services(settings=settings, engine=engine, store=store, educator_token="x") for _ in "ab")
        assert a.leases.replica != b.leases.replica
        on_a, on_b = Conversation(a, CollectingOutbox()), Conversation(b, CollectingOutbox())
        await on_a.handle(SessionStart(type="session.start", persona_id="demo", learner_id="two-replicas"))
        started = on_a.outbox.events[0]
        await on_a.commit_turn(LINES[0])

        caplog.set_level("INFO", logger="server.api.leases")
        await a.leases.begin_turn(on_a.lease)  # as a turn does, on A
        resume = asyncio.create_task(on_b.handle(SessionResume(type="session.resume", session_id=started.session_id,
                                                               token=started.token)))
        while not any("waiting for a turn in flight" in r.message for r in caplog.records):
            await asyncio.sleep(0.02)
        assert not resume.done()  # B waits for A's turn
        await a.leases.end_turn(on_a.lease)
        await resume
        assert on_b.outbox.events[0].resumed and on_b.lease.epoch == 2

        with pytest.raises(ProtocolError) as refused:
            await on_a.commit_turn(LINES[1])
        assert refused.value.code == "session_taken_over" and on_a.session is None
        record, _ = await on_b.commit_turn(LINES[1])
        assert record.turn_index == 2 and [t.learner_text for t in store.turns(started.session_id)] == LINES[:2]
        await on_a.detach()  # A's socket closes: B's lease is untouched
        assert store.leases.holder(started.session_id).replica == b.leases.replica
        await on_b.detach()
        assert store.leases.holder(started.session_id).replica is None
    finally:
        store.close()
