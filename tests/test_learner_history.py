"""Learner history: personal keys, GET /api/me/sessions and reading a debrief with the key.

The store half runs on a temporary SQLite file; the API half against the real `bedside serve`
subprocess (tests/conftest.py), over its websocket and HTTP API. The point of the API half is
that a key shows its own learner's sessions and nobody else's.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from server.api.client import ProtocolFailure, SessionClient
from server.api.educator import TOKEN_FILE
from server.api.limits import AddressRate
from server.config import Settings
from server.core.types import EmotionalState, SessionState
from server.store.base import LearnerIdTaken
from server.store.sql import open_store
from server.store.tables import SessionRow, TurnRow
from server.store.tokens import hash_token, new_token

# -- the store ----------------------------------------------------------------------------------


def initial_state() -> SessionState:
    return SessionState(persona_id="demo", emotional=EmotionalState(trust=0.4, distress=0.6, emotion="anxious"))


def start(store, learner: str):
    return store.create_session(learner_id=learner, persona_id="demo", mode="text", token=new_token(),
                                opening="Hello.", initial_state=initial_state())


def test_an_existing_database_gains_the_learner_keys_table(tmp_path):
    """A database made before keys existed (sessions and turns only) is upgraded by create_all,
    and its sessions are untouched."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    SessionRow.metadata.create_all(old, tables=[SessionRow.__table__, TurnRow.__table__])
    assert "learner_keys" not in inspect(old).get_table_names()
    old.dispose()
    store = open_store(url)
    try:
        assert start(store, "before") is not None
    finally:
        store.close()
    store = open_store(url)
    try:
        assert "learner_keys" in inspect(store.engine).get_table_names()
        key = new_token()
        record = store.learner_keys.create(key)
        assert record.learner_id is None and store.learner_keys.find(key) == record
        assert [s.learner_id for s in store.list_sessions()] == ["before"]
    finally:
        store.close()


def check_keys(store, prefix: str) -> None:
    """Keys as digests, tied to one learner id each; `prefix` keeps ids apart on a shared database."""
    alice, bob = f"{prefix}-alice", f"{prefix}-bob"
    keys = store.learner_keys
    a, b = new_token(), new_token()
    ra, rb = keys.create(a), keys.create(b)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM learner_keys")).all()
    assert {hash_token(a), hash_token(b)} <= {r.key_hash for r in rows}
    assert not any(a in str(tuple(r)) or b in str(tuple(r)) for r in rows)  # never the key itself
    assert keys.find("not-a-key") is None and keys.find("") is None and keys.find(None) is None
    assert a not in repr(ra)

    earlier = start(store, alice)                   # someone typed the name before any key held it
    bound = keys.bind(ra.key_hash, alice)
    assert bound.learner_id == alice and bound.bound_at is not None and keys.is_held(alice)
    assert keys.bind(ra.key_hash, f"{prefix}-someone-else").learner_id == alice   # a bound key keeps its id
    with pytest.raises(LearnerIdTaken):
        keys.bind(rb.key_hash, alice)
    assert keys.find(b).learner_id is None                                # the refused key stays unbound

    mine, theirs = start(store, alice), start(store, bob)
    key = keys.find(a)
    assert key.owns(mine)
    assert not key.owns(theirs)
    assert not key.owns(earlier)  # from before the key held the name: not the key's to read
    assert not rb.owns(mine)      # an unbound key owns nothing

    store.delete_learner(alice)
    assert keys.find(a) is None and not keys.is_held(alice)  # erasing a learner forgets their key


def test_keys_are_stored_as_digests_and_tie_to_one_learner(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'keys.db'}")
    try:
        check_keys(store, "sqlite")
    finally:
        store.close()


def test_keys_on_postgres(pg_url):
    store = open_store(pg_url)
    try:
        check_keys(store, f"pg-{uuid.uuid4().hex[:6]}")
    finally:
        store.close()


def test_address_rate_counts_per_address_per_hour():
    now = [0.0]
    rate = AddressRate(2, clock=lambda: now[0])
    assert rate.wait("1.2.3.4") == 0 and rate.wait("1.2.3.4") == 0
    assert rate.wait("1.2.3.4") > 0
    assert rate.wait("5.6.7.8") == 0     # another address has its own count
    now[0] = 3600.0
    assert rate.wait("1.2.3.4") == 0     # an hour later
    assert AddressRate(0).wait("x") == 0  # 0 turns the limit off


def test_key_creation_is_rate_limited_with_a_clear_429(tmp_path):
    """In process, on a stub engine: the key endpoints touch no model."""
    from server.api.app import create_app

    settings = Settings(data_dir=tmp_path, learner_keys_per_hour=2, database_url=f"sqlite:///{tmp_path / 'b.db'}")
    stub = SimpleNamespace(registry=SimpleNamespace(packs={}, problems=[]))
    store = open_store(settings.resolved_database_url())
    try:
        with TestClient(create_app(settings, engine=stub, store=store, educator_token="edu", web_dir=tmp_path)) as client:
            made = [client.post("/api/learner-keys") for _ in range(2)]
            assert [r.status_code for r in made] == [201, 201]
            assert len({r.json()["key"] for r in made}) == 2
            refused = client.post("/api/learner-keys")
            assert refused.status_code == 429 and "learner_keys_per_hour" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) > 0
    finally:
        store.close()


# -- the API, against the live server --------------------------------------------------------

LINES = ["Hello, I'm Dr Lee, one of the doctors here. What brings you in today?",
         "That sounds really frightening. What worries you most about it?"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def educator(server) -> str:
    return (server.data_dir / TOKEN_FILE).read_text().strip()


def new_key(server) -> str:
    r = httpx.post(server.url + "/api/learner-keys", timeout=10)
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert len(key) >= 43  # 32 random bytes, URL-safe base64
    return key


async def session(server, learner: str, key: str | None, *, end: bool, turns=LINES) -> dict:
    async with await SessionClient.open(server.ws_url) as c:
        started = await c.start("demo", learner, learner_key=key)
        for line in turns:
            await c.say(line)
        if end:
            started["summary"] = (await c.end())["summary"]
    return started


async def start_error(server, learner: str, key: str | None) -> dict:
    async with await SessionClient.open(server.ws_url) as c:
        with pytest.raises(ProtocolFailure) as failure:
            await c.start("demo", learner, learner_key=key)
    return failure.value.event


def me(server, key: str | None) -> httpx.Response:
    return httpx.get(server.url + "/api/me/sessions", headers=bearer(key) if key else {}, timeout=10)


def detail(server, session_id: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}/api/sessions/{session_id}", headers=bearer(token), timeout=10)


@pytest.mark.slow
def test_a_new_key_is_stored_as_its_digest(live_server, server_store):
    key = new_key(live_server)
    record = server_store.learner_keys.find(key)
    assert record is not None and record.learner_id is None and record.key_hash == hash_token(key)
    with server_store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM learner_keys WHERE key_hash = :k"), {"k": key}).scalar() == 0
    body = me(live_server, key).json()
    assert body == {"learner_id": None, "sessions": []}  # nothing yet: the first session ties the key


@pytest.mark.slow
def test_no_key_or_a_wrong_key_gets_401_or_403_saying_what_to_do(live_server):
    none = me(live_server, None)
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert "personal key" in none.json()["detail"] and "POST /api/learner-keys" in none.json()["detail"]
    for wrong in ("not-a-key", educator(live_server)):   # the educator token is not a learner's key
        r = me(live_server, wrong)
        assert r.status_code == 403 and "personal key" in r.json()["detail"]


@pytest.mark.slow
async def test_my_sessions_lists_the_key_holders_sessions_newest_first_with_scores(live_server):
    learner = f"hist-{uuid.uuid4().hex[:6]}"
    key = new_key(live_server)
    first = await session(live_server, learner, key, end=True)
    second = await session(live_server, learner, key, end=False, turns=LINES[:1])

    body = me(live_server, key).json()
    assert body["learner_id"] == learner
    assert [s["session"]["id"] for s in body["sessions"]] == [second["session_id"], first["session_id"]]
    newest, oldest = body["sessions"]
    assert newest["session"]["status"] == "active" and newest["session"]["scores"] is None
    assert oldest["title"] == first["persona"]["title"] and oldest["patient_name"] == first["persona"]["patient"]["name"]
    summary, scores = first["summary"], oldest["session"]["scores"]
    assert scores["mean_eccs"] == summary["mean_eccs"]
    assert scores["opportunities"] == summary["opportunities_answered"]
    assert scores["opportunities_met"] == summary["opportunities_answered"] - len(summary["missed_opportunities"])
    assert scores["concerns_found"] == len(summary["concerns_revealed"])
    assert scores["concerns_total"] == summary["concerns_total"]

    # the key reads each debrief, as the session's own token does
    for s in (first, second):
        r = detail(live_server, s["session_id"], key)
        assert r.status_code == 200 and r.json()["session"]["learner_id"] == learner
    assert detail(live_server, first["session_id"], key).json()["summary"] == summary


@pytest.mark.slow
async def test_a_key_sees_nobody_elses_sessions(live_server):
    a_name, b_name = f"keya-{uuid.uuid4().hex[:6]}", f"keyb-{uuid.uuid4().hex[:6]}"
    a_key, b_key = new_key(live_server), new_key(live_server)
    a = await session(live_server, a_name, a_key, end=True)
    b = await session(live_server, b_name, b_key, end=True)
    keyless = await session(live_server, f"free-{uuid.uuid4().hex[:6]}", None, end=False, turns=LINES[:1])

    a_list, b_list = me(live_server, a_key).json(), me(live_server, b_key).json()
    assert [s["session"]["id"] for s in a_list["sessions"]] == [a["session_id"]]
    assert [s["session"]["id"] for s in b_list["sessions"]] == [b["session_id"]]

    # reading: a key opens its own learner's sessions only, and cannot tell whether others exist
    assert detail(live_server, a["session_id"], a_key).status_code == 200
    for sid, key in ((b["session_id"], a_key), (a["session_id"], b_key), (keyless["session_id"], a_key),
                     (str(uuid.uuid4()), a_key)):
        r = detail(live_server, sid, key)
        assert r.status_code == 403 and "personal key" in r.json()["detail"]
    # a session's own token still reads only that session; it is no key to a history
    assert detail(live_server, a["session_id"], b["token"]).status_code == 403
    assert me(live_server, a["token"]).status_code == 403

    # educator-only endpoints refuse a key, with or without a filter naming the key's own learner
    for params in ({}, {"learner_id": a_name}, {"learner_id": b_name}):
        r = httpx.get(live_server.url + "/api/sessions", headers=bearer(a_key), params=params, timeout=10)
        assert r.status_code == 403 and "educator token" in r.json()["detail"]


@pytest.mark.slow
async def test_the_key_decides_the_learner_id(live_server):
    """Nobody can start sessions under (and so into the history of) a learner id a key holds."""
    name = f"owner-{uuid.uuid4().hex[:6]}"
    key, other = new_key(live_server), new_key(live_server)
    await session(live_server, name, key, end=True, turns=LINES[:1])

    without = await start_error(live_server, name, None)            # no key: the id is taken
    assert without["code"] == "learner_id_taken" and "learner_key" in without["message"]
    fresh = await start_error(live_server, name, other)             # another, unbound key: still taken
    assert fresh["code"] == "learner_id_taken"
    assert me(live_server, other).json() == {"learner_id": None, "sessions": []}  # and it stayed unbound

    other_name = f"other-{uuid.uuid4().hex[:6]}"
    await session(live_server, other_name, other, end=False, turns=LINES[:1])
    mismatch = await start_error(live_server, name, other)          # a bound key cannot switch ids
    assert mismatch["code"] == "learner_key_mismatch" and other_name in mismatch["message"]
    bogus = await start_error(live_server, f"x-{uuid.uuid4().hex[:6]}", "not-a-key")
    assert bogus["code"] == "bad_learner_key"

    assert [s["session"]["learner_id"] for s in me(live_server, key).json()["sessions"]] == [name]
    assert [s["session"]["learner_id"] for s in me(live_server, other).json()["sessions"]] == [other_name]


@pytest.mark.slow
async def test_sessions_from_before_a_key_held_the_name_stay_private(live_server):
    """Anyone could have typed a name before a key held it: those sessions are not the key's."""
    name = f"shared-{uuid.uuid4().hex[:6]}"
    earlier = await session(live_server, name, None, end=True, turns=LINES[:1])
    key = new_key(live_server)
    later = await session(live_server, name, key, end=True, turns=LINES[:1])

    assert [s["session"]["id"] for s in me(live_server, key).json()["sessions"]] == [later["session_id"]]
    assert detail(live_server, earlier["session_id"], key).status_code == 403
    listed = httpx.get(live_server.url + "/api/sessions", headers=bearer(educator(live_server)),
                       params={"learner_id": name}, timeout=10).json()
    assert [s["id"] for s in listed] == [earlier["session_id"], later["session_id"]]  # the educator sees both
