"""HTTP API against a real `bedside serve` subprocess: personas, health, auth rules."""

from __future__ import annotations

import stat
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from server.api.client import SessionClient
from server.api.educator import TOKEN_FILE

pytestmark = pytest.mark.slow


def educator(server) -> str:
    return (server.data_dir / TOKEN_FILE).read_text().strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_session(server, learner: str, turns: int = 1) -> dict:
    async with await SessionClient.open(server.ws_url) as c:
        started = await c.start("demo", learner)
        for i in range(turns):
            await c.say(f"Hello, I'm the doctor seeing you today. Question {i}?")
    return started


def test_healthz_index_and_static(live_server):
    health = httpx.get(live_server.url + "/healthz").json()
    assert health["status"] == "ok" and health["personas"] >= 1 and health["refused"] >= 1
    assert health["database"] == "sqlite"
    page = httpx.get(live_server.url + "/")
    assert page.status_code == 200 and "Bedside" in page.text
    assert httpx.get(live_server.url + "/static/index.html").status_code == 200
    assert "/api/personas" in httpx.get(live_server.url + "/openapi.json").json()["paths"]


def test_readyz_on_a_real_server(live_server):
    """`bedside serve` with its defaults loads every model before it listens, so once /healthz
    answers the replica is ready: the trained grader, faster-whisper, espeak and the end-of-turn judge."""
    response = httpx.get(live_server.url + "/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["not_ready"] == []
    checks = {c["name"]: c["detail"] for c in body["checks"]}
    assert checks["database"] == "sqlite answered SELECT 1"
    assert "trained grader" in checks["grader"] and "faster-whisper" in checks["asr"]
    assert "pyttsx3" in checks["tts"] and "text judge" in checks["end_of_turn"]


def test_first_start_names_the_token_file_and_keeps_it_private(live_server):
    """stdout is a pipe here, as under a service manager: the notice names the file, never the token."""
    token = educator(live_server)
    assert live_server.printed_token() == token
    assert not any(token in line for line in live_server.lines)
    assert any(line.startswith("educator token saved to ") for line in live_server.lines)
    assert stat.S_IMODE((live_server.data_dir / TOKEN_FILE).stat().st_mode) == 0o600


def test_personas_lists_valid_packs_and_refused_ones(live_server):
    body = httpx.get(live_server.url + "/api/personas").json()
    by_id = {p["id"]: p for p in body["personas"]}
    demo = by_id["demo"]
    assert demo["patient"] == {"name": "Alex Morgan", "age": 45, "gender": "female",
                               "appearance": {"skin_tone": "medium", "hair": "long", "hair_colour": "brown"}}
    assert demo["language"] == "en" and demo["difficulty"] == "intermediate"
    assert demo["learning_objectives"] and demo["title"] and demo["setting"]
    assert "facts" not in demo and "hidden_concerns" not in demo  # the case's secrets stay on the server
    refused = {r["file"].split("/")[-2]: r for r in body["refused"]}
    assert "broken" in refused and "broken" not in by_id
    fields = {p["field"] for p in refused["broken"]["problems"]}
    assert {"identity", "facts"} <= fields
    assert all(p["text"].startswith(refused["broken"]["file"]) for p in refused["broken"]["problems"])
    assert refused["broken"]["file"] == "broken/persona.yaml"  # no server path shown to anonymous callers
    # The refusal was logged at start-up with the validate message.
    assert any("persona pack refused" in line and "broken" in line for line in live_server.lines)


async def test_session_list_needs_the_educator_token(live_server):
    learner = f"api-{uuid.uuid4().hex[:6]}"
    started = await new_session(live_server, learner, turns=2)
    url = live_server.url + "/api/sessions"

    none = httpx.get(url)
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert httpx.get(url, headers=bearer("not-the-token")).status_code == 403
    assert httpx.get(url, headers=bearer(started["token"])).status_code == 403  # learners cannot list

    ok = httpx.get(url, headers=bearer(educator(live_server)), params={"learner_id": learner})
    assert ok.status_code == 200
    [row] = ok.json()
    assert row["id"] == started["session_id"] and row["turns"] == 2 and row["persona_id"] == "demo"
    assert row["status"] == "active" and row["mode"] == "text" and row["schema_version"] == 1

    edu = bearer(educator(live_server))
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert httpx.get(url, headers=edu, params={"learner_id": learner, "since": later}).json() == []
    assert len(httpx.get(url, headers=edu, params={"learner_id": learner, "since": earlier, "until": later}).json()) == 1
    assert httpx.get(url, headers=edu, params={"learner_id": learner, "persona_id": "broken"}).json() == []
    assert httpx.get(url, headers=edu, params={"since": "not-a-date"}).status_code == 422


async def test_session_detail_auth(live_server):
    mine = await new_session(live_server, "detail-a", turns=2)
    theirs = await new_session(live_server, "detail-b", turns=1)
    url = f"{live_server.url}/api/sessions/{mine['session_id']}"

    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=bearer("wrong")).status_code == 403
    assert httpx.get(url, headers=bearer(theirs["token"])).status_code == 403  # someone else's session

    for token in (mine["token"], educator(live_server)):
        r = httpx.get(url, headers=bearer(token))
        assert r.status_code == 200
        body = r.json()
        assert body["session"]["id"] == mine["session_id"] and body["session"]["learner_id"] == "detail-a"
        assert [t["turn_id"] for t in body["turns"]] == [1, 2]
        assert all(t["grade"]["grader_version"] for t in body["turns"])
        assert body["opening"] == mine["opening"] and body["summary"] is None
        assert "token" not in body["session"] and "token_hash" not in body["session"]

    missing = f"{live_server.url}/api/sessions/{uuid.uuid4()}"
    assert httpx.get(missing, headers=bearer(educator(live_server))).status_code == 404
    assert httpx.get(missing).status_code == 401
    assert httpx.get(missing, headers=bearer(mine["token"])).status_code == 403
